import { randomBytes } from 'node:crypto';
import { TestApp, type TestUser } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

interface Entry {
  id: string;
  at: string;
  actor: string;
  actor_workspace: string | null;
  action: string;
  target: { kind: string; id: string } | null;
  workspace: string | null;
  source_address: string | null;
  outcome: 'ok' | 'refused';
  error: string | null;
  details: Record<string, unknown>;
}

describe('the audit trail of admin actions', () => {
  let t: TestApp;
  let ws: string;
  let admin: TestUser;
  let member: TestUser;
  let analyst: TestUser;
  let channel: string;

  beforeAll(async () => {
    t = await TestApp.start({ EKM_LOCAL_MASTER_KEY: randomBytes(32).toString('base64') });
    ws = await t.newWorkspace();
    admin = await t.newUser(ws, 'admin');
    member = await t.newUser(ws, 'member');
    analyst = await t.newUser(ws, 'analyst');
    channel = await t.newChannel(admin, 'general');
  });
  afterAll(() => t.close());

  /** The workspace's trail as its admin reads it, newest first. */
  const trail = async (query = '', token = admin.token): Promise<Entry[]> => {
    const res = await t.admin('GET', `/workspaces/${ws}/audit${query}`, undefined, token);
    expect(res.status).toBe(200);
    return res.body.entries;
  };
  const latestBy = async (actor: string) => (await trail(`?actor=${actor}&limit=1`))[0];

  it('records every admin write and replay read: actor, action, target, workspace, source address, outcome', async () => {
    let credential = '';
    let revocation = '';
    let newcomer = '';
    const u = () => newcomer;
    // [method, path, body, token, action, target] — in order: each row may use what the ones before made.
    const rows: [string, () => string, unknown, () => string, string, () => { kind: string; id: string } | null][] = [
      ['POST', () => `/workspaces/${ws}/users`, { name: 'newcomer', role: 'member' }, () => admin.token, 'admin.createUser', () => null],
      [
        'POST',
        () => `/workspaces/${ws}/users/${u()}/tokens`,
        undefined,
        () => admin.token,
        'access.issueToken',
        () => ({ kind: 'user', id: u() }),
      ],
      [
        'POST',
        () => `/workspaces/${ws}/users/${u()}/credentials/${credential}/revoke`,
        undefined,
        () => admin.token,
        'access.revoke',
        () => ({ kind: 'credential', id: credential }),
      ],
      [
        'POST',
        () => `/workspaces/${ws}/users/${u()}/sign-in-links`,
        undefined,
        () => admin.token,
        'access.signinLink',
        () => ({ kind: 'user', id: u() }),
      ],
      [
        'POST',
        () => `/workspaces/${ws}/users/${u()}/deactivate`,
        undefined,
        () => admin.token,
        'access.deactivate',
        () => ({ kind: 'user', id: u() }),
      ],
      [
        'POST',
        () => `/workspaces/${ws}/users/${u()}/reactivate`,
        undefined,
        () => admin.token,
        'access.reactivate',
        () => ({ kind: 'user', id: u() }),
      ],
      [
        'PUT',
        () => `/workspaces/${ws}/emoji/partyparrot`,
        { url: 'https://emoji.example.com/p.gif' },
        () => admin.token,
        'emoji.add',
        () => ({ kind: 'emoji', id: 'partyparrot' }),
      ],
      [
        'DELETE',
        () => `/workspaces/${ws}/emoji/partyparrot`,
        undefined,
        () => admin.token,
        'emoji.remove',
        () => ({ kind: 'emoji', id: 'partyparrot' }),
      ],
      [
        'PUT',
        () => `/workspaces/${ws}/retention`,
        { keep_days: 30 },
        () => admin.token,
        'retention.setWorkspace',
        () => ({ kind: 'workspace', id: ws }),
      ],
      [
        'PUT',
        () => `/workspaces/${ws}/channels/${channel}/retention`,
        { keep_days: null },
        () => admin.token,
        'retention.setChannel',
        () => ({ kind: 'channel', id: channel }),
      ],
      [
        'DELETE',
        () => `/workspaces/${ws}/channels/${channel}/retention`,
        undefined,
        () => admin.token,
        'retention.clearChannel',
        () => ({ kind: 'channel', id: channel }),
      ],
      [
        'POST',
        () => `/workspaces/${ws}/retention/runs`,
        undefined,
        () => admin.token,
        'retention.run',
        () => ({ kind: 'workspace', id: ws }),
      ],
      [
        'POST',
        () => `/workspaces/${ws}/ekm`,
        { provider: 'local' },
        () => admin.token,
        'ekm.enable',
        () => ({ kind: 'workspace', id: ws }),
      ],
      ['POST', () => `/workspaces/${ws}/ekm/rotate`, {}, () => admin.token, 'ekm.rotate', () => ({ kind: 'workspace', id: ws })],
      [
        'POST',
        () => `/workspaces/${ws}/ekm/revocations`,
        { channel },
        () => admin.token,
        'ekm.revoke',
        () => ({ kind: 'revocation', id: revocation }),
      ],
      [
        'DELETE',
        () => `/workspaces/${ws}/ekm/revocations/${revocation}`,
        undefined,
        () => admin.token,
        'ekm.restore',
        () => ({ kind: 'revocation', id: revocation }),
      ],
    ];
    for (const [method, path, body, token, action, target] of rows) {
      const res = await t.admin(method, path(), body, token());
      expect([200, 201, 202, 204]).toContain(res.status);
      if (action === 'admin.createUser') newcomer = res.body.user.id;
      if (action === 'access.issueToken') credential = res.body.id;
      if (action === 'ekm.revoke') revocation = res.body.revocation.id;
      const entry = await latestBy(admin.id);
      const expectedTarget = action === 'admin.createUser' ? { kind: 'user', id: newcomer } : target();
      expect(entry).toMatchObject({
        actor: admin.id,
        actor_workspace: ws,
        action,
        target: expectedTarget,
        workspace: ws,
        source_address: '127.0.0.1',
        outcome: 'ok',
        error: null,
      });
      expect(entry.details).toMatchObject({ method });
      // Never a secret, a token or a sign-in code.
      expect(JSON.stringify(entry)).not.toMatch(/xox|code=|token"/);
    }

    // The operator's workspace creation is on the instance-wide trail with the new workspace as target.
    const created = await t.admin('POST', '/workspaces', { name: 'Audited' });
    const [op] = (await t.admin('GET', '/audit?actor=operator&action=admin.createWorkspace&limit=1')).body.entries as Entry[];
    expect(op).toMatchObject({
      actor: 'operator',
      actor_workspace: null,
      target: { kind: 'workspace', id: created.body.id },
      workspace: created.body.id,
      outcome: 'ok',
    });

    // Analysts' replay reads, each with its filters (the stream is sent as the row is written: wait for it).
    expect(
      (await fetch(`${t.url}/admin/v1/channels/${channel}/events?limit=5`, { headers: { authorization: `Bearer ${analyst.token}` } }))
        .status,
    ).toBe(200);
    expect((await fetch(`${t.url}/admin/v1/events?types=message`, { headers: { authorization: `Bearer ${analyst.token}` } })).status).toBe(
      200,
    );
    await waitFor(async () => (await trail(`?actor=${analyst.id}`)).length === 2, 10_000, 'the replay audit rows');
    expect((await trail(`?actor=${analyst.id}`)).map((e) => [e.action, e.target, e.details.query])).toEqual([
      ['replay.global', null, { types: 'message' }],
      ['replay.channel', { kind: 'channel', id: channel }, { limit: '5' }],
    ]);

    // The EKM runs' ends are on the same trail, by `system` (they replace the old ekm_audit table).
    await waitFor(async () => (await trail('?actor=system&action=ekm.encrypt_done')).length === 1, 20_000, 'the encrypt run');
  });

  it('records refused attempts of identified callers (role, other workspace, validation, not found), not anonymous ones', async () => {
    const other = await t.newWorkspace('Other');
    const otherAdmin = await t.newUser(other, 'admin');
    expect((await t.admin('PUT', `/workspaces/${ws}/retention`, { keep_days: 30 }, member.token)).status).toBe(403);
    expect(await latestBy(member.id)).toMatchObject({
      actor: member.id,
      action: 'retention.setWorkspace',
      workspace: ws,
      outcome: 'refused',
      error: 'only admin users',
      details: { method: 'PUT', route: '/admin/v1/workspaces/:workspace/retention', status: 403 },
    });
    expect((await t.admin('POST', `/workspaces/${ws}/users/${member.id}/deactivate`, undefined, otherAdmin.token)).status).toBe(403);
    expect(await latestBy(otherAdmin.id)).toMatchObject({
      actor_workspace: other,
      workspace: ws,
      action: 'access.deactivate',
      outcome: 'refused',
    });
    expect((await t.admin('PUT', `/workspaces/${ws}/retention`, { keep_days: 0 }, admin.token)).status).toBe(400);
    expect(await latestBy(admin.id)).toMatchObject({ action: 'retention.setWorkspace', outcome: 'refused', details: { status: 400 } });
    expect((await t.admin('DELETE', `/workspaces/${ws}/emoji/nosuch`, undefined, admin.token)).status).toBe(404);
    expect(await latestBy(admin.id)).toMatchObject({ action: 'emoji.remove', outcome: 'refused', error: 'emoji_not_found' });

    // Count only this action's rows: runs of earlier tests may still add their own (system) rows.
    const setWorkspaceRows = async () =>
      (await t.pool.query("SELECT count(*)::int n FROM audit_log WHERE action = 'retention.setWorkspace'")).rows[0].n;
    const before = await setWorkspaceRows();
    expect((await t.admin('PUT', `/workspaces/${ws}/retention`, { keep_days: 30 }, 'xoxp-not-a-token')).status).toBe(401);
    expect(await setWorkspaceRows()).toBe(before);
  });

  it('is append-only: UPDATE, DELETE and TRUNCATE are refused', async () => {
    await expect(t.pool.query(`UPDATE audit_log SET actor = 'someone else'`)).rejects.toThrow(/append-only/);
    await expect(t.pool.query('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
    await expect(t.pool.query('TRUNCATE audit_log')).rejects.toThrow(/append-only/);
    expect((await t.pool.query(`SELECT count(*)::int n FROM audit_log WHERE actor = 'someone else'`)).rows[0].n).toBe(0);
  });

  it("shows workspace admins only their workspace's trail; every workspace to the operator", async () => {
    const other = await t.newWorkspace('Third');
    const otherAdmin = await t.newUser(other, 'admin');
    await t.admin('PUT', `/workspaces/${other}/retention`, { keep_days: 7 }, otherAdmin.token);
    expect(new Set((await trail('?limit=1000')).map((e) => e.workspace))).toEqual(new Set([ws]));
    expect((await t.admin('GET', `/workspaces/${ws}/audit`, undefined, otherAdmin.token)).status).toBe(403);
    expect((await t.admin('GET', '/audit', undefined, admin.token)).status).toBe(403);
    expect((await t.admin('GET', `/workspaces/${ws}/audit`, undefined, member.token)).status).toBe(403);
    const all = (await t.admin('GET', '/audit?limit=1000')).body.entries as Entry[];
    expect(all.some((e) => e.workspace === other) && all.some((e) => e.workspace === ws)).toBe(true);
    const onlyOther = (await t.admin('GET', `/audit?workspace=${other}`)).body.entries as Entry[];
    expect(onlyOther.length).toBeGreaterThan(0);
    expect(onlyOther.every((e) => e.workspace === other)).toBe(true);
  });

  it('pages newest first without gaps or duplicates and filters by action, actor, since and until', async () => {
    // The admin's own rows: EKM runs still finishing add `system` rows meanwhile.
    const everything = await trail(`?limit=1000&actor=${admin.id}`);
    const paged: Entry[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const res = await t.admin(
        'GET',
        `/workspaces/${ws}/audit?actor=${admin.id}&limit=3${cursor ? `&cursor=${cursor}` : ''}`,
        undefined,
        admin.token,
      );
      paged.push(...res.body.entries);
      cursor = res.body.next_cursor;
    }
    expect(paged.map((e) => e.id)).toEqual(everything.map((e) => e.id));
    expect(everything.map((e) => Number(e.id))).toEqual([...everything.map((e) => Number(e.id))].sort((a, b) => b - a));

    const deactivations = await trail('?action=access.deactivate');
    const whole = await trail('?limit=1000');
    expect(deactivations.map((e) => e.id)).toEqual(whole.filter((e) => e.action === 'access.deactivate').map((e) => e.id));
    expect(deactivations.map((e) => e.outcome).sort()).toEqual(['ok', 'refused']); // the admin's, the other workspace's attempt
    const mid = everything[Math.floor(everything.length / 2)].at;
    const since = await trail(`?actor=${admin.id}&limit=1000&since=${mid}`);
    const until = await trail(`?actor=${admin.id}&limit=1000&until=${mid}`);
    expect(since.length + until.length).toBe(everything.length);
    expect(since.every((e) => e.at >= mid) && until.every((e) => e.at < mid)).toBe(true);
    expect(await trail(`?since=${new Date(Date.now() + 86_400_000).toISOString()}`)).toEqual([]);
    expect((await t.admin('GET', `/workspaces/${ws}/audit?cursor=nope`, undefined, admin.token)).status).toBe(400);
    expect((await t.admin('GET', `/workspaces/${ws}/audit?since=yesterday`, undefined, admin.token)).status).toBe(400);
  });

  it('keeps rows AUDIT_KEEP_DAYS (365): the retention sweep deletes older ones only', async () => {
    const other = await t.newWorkspace('Kept');
    // The dispatcher's first scheduled sweep (every workspace) runs soon after start: let it finish
    // first, or it would take the other workspace's aged row too.
    await waitFor(
      async () => {
        const { rows } = await t.pool.query<{ n: number; pending: number }>(
          `SELECT count(*)::int AS n, (count(*) FILTER (WHERE state NOT IN ('done', 'failed')))::int AS pending
             FROM job_runs WHERE kind = 'retention' AND workspace_id IS NULL`,
        );
        return rows[0].n > 0 && rows[0].pending === 0;
      },
      20_000,
      'the first scheduled sweep',
    );
    const insertAged = (workspace: string | null, days: number) =>
      t.pool.query(
        `INSERT INTO audit_log (at, actor, action, workspace_id, outcome) VALUES (now() - make_interval(days => $2), 'operator', 'test.aged', $1, 'ok')`,
        [workspace, days],
      );
    await insertAged(ws, 400);
    await insertAged(ws, 300);
    await insertAged(null, 400);
    await insertAged(other, 400); // another workspace's sweep takes it, not this one
    const aged = async () =>
      (
        await t.pool.query(
          `SELECT workspace_id, (now() - at > interval '365 days') AS old FROM audit_log WHERE action = 'test.aged' ORDER BY id`,
        )
      ).rows;
    const started = await t.admin('POST', `/workspaces/${ws}/retention/runs`, undefined, admin.token);
    await waitFor(
      async () =>
        (await t.admin('GET', `/workspaces/${ws}/retention/runs/${started.body.id}`, undefined, admin.token)).body.status === 'done',
      20_000,
      'the retention run',
    );
    expect(await aged()).toEqual([
      { workspace_id: ws, old: false },
      { workspace_id: other, old: true },
    ]);
    expect((await trail('?action=ekm.enable')).length).toBe(1); // recent rows stay
  });
});
