import { randomBytes } from 'node:crypto';
import { EventStore } from '../../src/event-store/event-store.js';
import { EKM_DENIED_TEXT } from '../../src/domain/message.js';
import { TestApp, type TestUser } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

const SECRET = 'the launch code is swordfish';

describe('EKM: customer-managed keys for message bodies', () => {
  let t: TestApp;
  let ws: string;
  let admin: TestUser;
  let member: TestUser;
  let general: string;
  let secret: string;

  beforeAll(async () => {
    t = await TestApp.start({ EKM_LOCAL_MASTER_KEY: randomBytes(32).toString('base64') });
    ws = await t.newWorkspace();
    admin = await t.newUser(ws, 'admin');
    member = await t.newUser(ws, 'member');
    general = await t.newChannel(admin, 'general', false, [member]);
    secret = await t.newChannel(admin, 'secret', false, [member]);
  });
  afterAll(() => t.close());

  const post = async (channel: string, text: string, extra: Record<string, string> = {}) => {
    const res = await t.api('chat.postMessage', member.token, { channel, text, ...extra });
    expect(res.body.ok).toBe(true);
    return res.body.ts as string;
  };
  const texts = async (channel: string) =>
    (await t.api('conversations.history', member.token, { channel })).body.messages.map((m: { text: string }) => m.text);
  const ekm = (method: string, path = '', body?: unknown, token?: string) => t.admin(method, `/workspaces/${ws}/ekm${path}`, body, token);
  const finished = async (run: { id: string }) => {
    await waitFor(async () => (await ekm('GET', `/runs/${run.id}`)).body.status === 'done', 20_000, `EKM run ${run.id}`);
    return (await ekm('GET', `/runs/${run.id}`)).body;
  };
  /** Every place a body could sit in plaintext. */
  const plaintextHits = async (needle: string) => {
    const { rows } = await t.pool.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM messages WHERE text LIKE '%' || $1 || '%' OR position(convert_to($1, 'UTF8') IN coalesce(body_enc, '')) > 0)
            + (SELECT count(*) FROM events WHERE data::text LIKE '%' || $1 || '%') AS n`,
      [needle],
    );
    return Number(rows[0].n);
  };

  it('refuses members, unknown providers and bad bodies without writing', async () => {
    expect((await ekm('POST', '', { provider: 'local' }, member.token)).status).toBe(403);
    expect((await ekm('POST', '', { provider: 'vault' })).status).toBe(400);
    expect((await ekm('POST', '', { provider: 'aws-kms', key_id: 'alias/x' })).status).toBe(400); // no KMS region on this node
    expect((await ekm('POST', '/revocations', {})).body).toMatchObject({ statusCode: 404, message: 'EKM is not enabled' }); // not enabled yet
    expect((await ekm('POST', '/rotate', {})).status).toBe(404);
    expect((await ekm('GET')).body).toMatchObject({ enabled: false });
  });

  it('enabling seals every existing body; nothing readable changes', async () => {
    const parent = await post(general, `${SECRET} (before EKM)`);
    await post(general, 'a reply before EKM', { thread_ts: parent });
    const edited = await post(secret, 'draft');
    await t.api('chat.update', member.token, { channel: secret, ts: edited, text: `${SECRET} (edited)` });
    expect(await plaintextHits(SECRET)).toBe(2);

    const res = await ekm('POST', '', { provider: 'local' });
    expect(res.status).toBe(202);
    const run = await finished(res.body.run);
    expect(Number(run.done)).toBe(3);
    const again = await ekm('POST', '', { provider: 'local' });
    expect(again).toEqual({ status: 409, body: expect.objectContaining({ message: 'EKM is already enabled' }) });

    expect(await plaintextHits(SECRET)).toBe(0);
    expect((await t.pool.query('SELECT count(*)::int AS n FROM messages WHERE text IS NOT NULL')).rows[0].n).toBe(0);
    expect(await texts(general)).toEqual([`${SECRET} (before EKM)`]);
    expect(await texts(secret)).toEqual([`${SECRET} (edited)`]);
    const replies = await t.api('conversations.replies', member.token, { channel: general, ts: parent });
    expect(replies.body.messages.map((m: { text: string }) => m.text)).toEqual([`${SECRET} (before EKM)`, 'a reply before EKM']);
  });

  it('new posts, edits and the event stream stay sealed at rest and readable through the API', async () => {
    const ts = await post(general, `${SECRET} (after EKM)`);
    await t.api('chat.update', member.token, { channel: general, ts, text: `${SECRET} (after EKM, edited)` });
    expect(await plaintextHits(SECRET)).toBe(0);
    expect((await texts(general))[0]).toBe(`${SECRET} (after EKM, edited)`);
    const events = await t.app.get(EventStore).readChannel(general, 0, 100);
    expect(events.filter((e) => e.type === 'message').map((e) => e.text)).toContain(`${SECRET} (after EKM, edited)`);
  });

  it('rotation re-wraps every data key under the new version and keeps every message readable', async () => {
    const before = await texts(general);
    const res = await ekm('POST', '/rotate', {});
    expect(res.status).toBe(202);
    await finished(res.body.run);
    const { rows } = await t.pool.query<{ key_version: number }>('SELECT DISTINCT key_version FROM data_keys WHERE workspace_id = $1', [
      ws,
    ]);
    expect(rows).toEqual([{ key_version: 2 }]);
    expect(await texts(general)).toEqual(before);
    await post(general, 'after rotation');
    expect((await texts(general))[0]).toBe('after rotation');
  });

  it('revoking a channel answers ekm_access_denied at once, tells live clients, and restoring brings it back', async () => {
    const head = Number((await t.pool.query('SELECT head_seq FROM channels WHERE id = $1', [secret])).rows[0].head_seq);
    const res = await ekm('POST', '/revocations', { channel: secret });
    expect(res.status).toBe(201);
    const denied = (await t.api('conversations.history', member.token, { channel: secret })).body.messages;
    expect(denied).toEqual([expect.objectContaining({ subtype: 'ekm_access_denied', text: EKM_DENIED_TEXT })]);
    expect(await texts(general)).not.toContain(EKM_DENIED_TEXT); // other channels unaffected

    await finished(res.body.run);
    const announced = await t.app.get(EventStore).readChannel(secret, head, 10);
    expect(announced).toEqual([
      expect.objectContaining({ type: 'message_changed', message: expect.objectContaining({ subtype: 'ekm_access_denied' }) }),
    ]);

    const restored = await ekm('DELETE', `/revocations/${res.body.revocation.id}`);
    expect(restored.status).toBe(200);
    expect(await texts(secret)).toEqual([`${SECRET} (edited)`]);
    await finished(restored.body.run);
    expect((await ekm('DELETE', `/revocations/${res.body.revocation.id}`)).status).toBe(404);
  });

  it('keeps every key operation in an audit log readable by admins, without key material', async () => {
    // EKM's key operations are on the one audit trail (GET /workspaces/:workspace/audit).
    const log = await t.admin('GET', `/workspaces/${ws}/audit?limit=1000`, undefined, admin.token);
    expect(log.status).toBe(200);
    const actions = log.body.entries.map((e: { action: string }) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'ekm.enable',
        'ekm.encrypt_done',
        'ekm.rotate',
        'ekm.rewrap_done',
        'ekm.revoke',
        'ekm.restore',
        'ekm.announce_done',
      ]),
    );
    expect(JSON.stringify(log.body)).not.toMatch(/wrapped|master|swordfish/);
    expect((await t.admin('GET', `/workspaces/${ws}/audit`, undefined, member.token)).status).toBe(403);
  });
});
