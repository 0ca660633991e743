import { randomBytes } from 'node:crypto';
import { RetentionService, retentionRunView } from '../../src/jobs/retention/retention.service.js';
import { JobRunsService } from '../../src/jobs/runs/job-runs.service.js';
import { TestApp, type TestUser } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';
import { createClusterDatabase, groupOf, startClusterRedis } from './support/cluster.js';

const DAY_MS = 86_400_000;
const SECRET = 'the launch code is swordfish';

// Retention (physical deletes on the workers) and EKM (seal, rotate, revoke) on a Citus cluster,
// with a channel on each worker.
describe('retention and EKM on a Citus cluster', () => {
  let t: TestApp;
  let redis: Awaited<ReturnType<typeof startClusterRedis>> | undefined;
  let ws: string;
  let admin: TestUser;
  let member: TestUser;
  const channels: string[] = [];

  beforeAll(async () => {
    redis = await startClusterRedis();
    const db = await createClusterDatabase();
    t = await TestApp.start(
      {
        ...redis.env,
        EKM_LOCAL_MASTER_KEY: randomBytes(32).toString('base64'),
        ...(process.env.CLUSTER_LOG ? { LOG_LEVEL: 'warn' } : {}),
      },
      db,
    );
    (t as unknown as { clusterDb: typeof db }).clusterDb = db;
    ws = await t.newWorkspace();
    admin = await t.newUser(ws, 'admin');
    member = await t.newUser(ws, 'member');
    const groups = new Set<number>();
    for (let i = 0; groups.size < 2; i++) {
      if (i > 30) throw new Error('channels did not spread over both workers');
      const id = await t.newChannel(admin, `ch${i}`, false, [member]);
      const g = await groupOf(t.pool, id);
      if (groups.has(g)) continue;
      groups.add(g);
      channels.push(id);
    }
  });
  afterAll(async () => {
    await t?.close();
    await redis?.stop();
    await (t as unknown as { clusterDb?: { drop(): Promise<void> } })?.clusterDb?.drop();
  });

  const post = async (channel: string, text: string, thread_ts?: string) => {
    const res = await t.api('chat.postMessage', member.token, { channel, text, ...(thread_ts ? { thread_ts } : {}) });
    expect(res.body.ok).toBe(true);
    return res.body.ts as string;
  };
  const texts = async (channel: string) =>
    (await t.api('conversations.history', member.token, { channel })).body.messages.map((m: { text: string }) => m.text);
  const ekm = (method: string, path = '', body?: unknown) => t.admin(method, `/workspaces/${ws}/ekm${path}`, body);
  const finished = async (run: { id: string }) => {
    await waitFor(async () => (await ekm('GET', `/runs/${run.id}`)).body.status === 'done', 60_000, `EKM run ${run.id}`);
    return (await ekm('GET', `/runs/${run.id}`)).body;
  };

  test('retention deletes expired bodies on both workers for good, records redactions, keeps seq gapless', async () => {
    for (const c of channels) {
      const parent = await post(c, 'old parent');
      await post(c, 'old reply', parent);
      for (let i = 0; i < 5; i++) await post(c, `old ${i}`);
    }
    const cutoff = new Date(Date.now() + 1);
    await waitFor(() => Date.now() > cutoff.getTime() + 2, 1000, 'the clock to pass the cutoff');
    for (const c of channels) await post(c, 'new');
    const retention = t.app.get(RetentionService);
    await retention.setPolicy(ws, null, 30);
    const run = await retention.createRun(ws);
    const done = await t.app.get(JobRunsService).execute(run.id, { now: new Date(cutoff.getTime() + 30 * DAY_MS), batchSize: 3 });
    expect(retentionRunView(done)).toMatchObject({ status: 'done', deleted: '14' });
    for (const c of channels) {
      const left = await t.pool.query<{ text: string }>('SELECT text FROM messages WHERE channel_id = $1 ORDER BY seq', [c]);
      expect(left.rows.map((r) => r.text)).toEqual(['new']);
      const seqs = await t.pool.query<{ seq: string; type: string }>('SELECT seq, type FROM events WHERE channel_id = $1 ORDER BY seq', [
        c,
      ]);
      expect(seqs.rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: seqs.rows.length }, (_, i) => i + 1));
      expect(seqs.rows.filter((r) => r.type === 'message_deleted')).toHaveLength(7);
      expect(await texts(c)).toEqual(['new']);
    }
    await retention.setPolicy(ws, null, null);
  });

  test('EKM: enabling seals every body on both workers, rotation re-wraps, revocation denies and restores', async () => {
    for (const c of channels) await post(c, `${SECRET} before`);
    const res = await ekm('POST', '', { provider: 'local' });
    expect(res.status).toBe(202);
    await finished(res.body.run);
    const plain = await t.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM messages WHERE text LIKE '%swordfish%' OR position(convert_to('swordfish', 'UTF8') IN coalesce(body_enc, '')) > 0`,
    );
    expect(plain.rows[0].n).toBe(0);
    expect((await t.pool.query('SELECT count(*)::int AS n FROM messages WHERE text IS NOT NULL')).rows[0].n).toBe(0);
    for (const c of channels) expect((await texts(c))[0]).toBe(`${SECRET} before`);
    // New posts are sealed at rest too (the database refuses plaintext in an EKM workspace).
    for (const c of channels) await post(c, `${SECRET} after`);
    expect((await t.pool.query('SELECT count(*)::int AS n FROM messages WHERE text IS NOT NULL')).rows[0].n).toBe(0);
    for (const c of channels) expect((await texts(c))[0]).toBe(`${SECRET} after`);

    const rotated = await ekm('POST', '/rotate', {});
    expect(rotated.status).toBe(202);
    await finished(rotated.body.run);
    const versions = await t.pool.query('SELECT DISTINCT key_version FROM data_keys WHERE workspace_id = $1', [ws]);
    expect(versions.rows).toEqual([{ key_version: 2 }]);
    for (const c of channels) expect((await texts(c))[0]).toBe(`${SECRET} after`);

    const revoked = await ekm('POST', '/revocations', { channel: channels[1] });
    expect(revoked.status).toBe(201);
    const denied = (await t.api('conversations.history', member.token, { channel: channels[1] })).body.messages;
    expect(denied.every((m: { subtype?: string }) => m.subtype === 'ekm_access_denied')).toBe(true);
    expect((await texts(channels[0]))[0]).toBe(`${SECRET} after`);
    await finished(revoked.body.run);
    const restored = await ekm('DELETE', `/revocations/${revoked.body.revocation.id}`);
    expect(restored.status).toBe(200);
    expect((await texts(channels[1]))[0]).toBe(`${SECRET} after`);
  });
});
