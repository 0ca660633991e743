import { randomUUID } from 'node:crypto';
import { describeSeqs, expectComplete, heads, TestClient, waitFor } from '../realtime/support.js';
import { TestApp, type TestUser } from '../support/test-app.js';
import { createClusterDatabase, groupOf, startClusterRedis } from './support/cluster.js';

// atomcast on a Citus cluster (coordinator + 2 workers): the channel-stream guarantees, the
// projector's unread counts, socket resume and the global replay, with channels on both workers.
describe('on a Citus cluster', () => {
  let t: TestApp;
  let redis: Awaited<ReturnType<typeof startClusterRedis>> | undefined;
  let owner: TestUser;
  let reader: TestUser;
  const writers: TestUser[] = [];
  const channels: string[] = [];
  const WRITERS = 16;
  const POSTS = 500;

  beforeAll(async () => {
    redis = await startClusterRedis();
    const db = await createClusterDatabase();
    t = await TestApp.start({ ...redis.env, PROJECTOR_INTERVAL_MS: '100', ...(process.env.CLUSTER_LOG ? { LOG_LEVEL: 'warn' } : {}) }, db);
    (t as unknown as { ownsClusterDb: unknown }).ownsClusterDb = db;
    const ws = await t.newWorkspace();
    owner = await t.newUser(ws);
    reader = await t.newUser(ws);
    for (let i = 0; i < WRITERS; i++) writers.push(await t.newUser(ws));
    // Channels until each worker holds at least three of them.
    const perGroup = new Map<number, number>();
    for (let i = 0; channels.length < 8 || [...perGroup.values()].filter((n) => n >= 3).length < 2; i++) {
      if (i > 40) throw new Error('channels did not spread over both workers');
      const id = await t.newChannel(owner, `c${i}`, false, [reader, ...writers]);
      channels.push(id);
      const g = await groupOf(t.pool, id);
      perGroup.set(g, (perGroup.get(g) ?? 0) + 1);
    }
    expect(perGroup.size).toBe(2);
  });
  afterAll(async () => {
    await t?.close();
    await redis?.stop();
    await ((t as unknown as { ownsClusterDb?: { drop(): Promise<void> } })?.ownsClusterDb?.drop() ?? Promise.resolve());
  });

  test('16 concurrent writers x 500 posts: every channel is exactly 1..N; a socket that resumes under fire misses nothing; unread counts and the global replay agree', async () => {
    const joinHeads = await heads(t, channels);
    // A reader's socket, dropped and resumed from its cursors while the writers run.
    const client = new TestClient(reader, t.url);
    await client.connect({ cursors: Object.fromEntries(joinHeads) });
    for (const [c, h] of joinHeads)
      client.log.set(
        c,
        Array.from({ length: h }, (_, i) => i + 1),
      );
    let posted = 0;
    const postAll = Promise.all(
      writers.map(async (w, wi) => {
        for (let i = 0; i < POSTS; i++) {
          const channel = channels[(wi + i) % channels.length];
          const res = await t.api('chat.postMessage', w.token, { channel, text: `w${wi} #${i}`, client_msg_id: randomUUID() });
          if (!res.body.ok) throw new Error(`post: ${JSON.stringify(res.body)}`);
          posted++;
          if (process.env.CLUSTER_LOG && posted % 1000 === 0) process.stderr.write(`${posted} posts\n`);
        }
      }),
    );
    const resumes = (async () => {
      for (const at of [1500, 4000, 6500]) {
        await waitFor(() => posted >= at, 120_000, `${at} posts`);
        client.disconnect();
        await client.connect({ cursors: client.cursors() });
      }
    })();
    await Promise.all([postAll, resumes]);
    const final = await heads(t, channels);
    expect([...final.values()].reduce((a, b) => a + b, 0) - [...joinHeads.values()].reduce((a, b) => a + b, 0)).toBe(WRITERS * POSTS);

    // The log: seq exactly 1..head per channel, ts strictly increasing with seq.
    for (const channel of channels) {
      const { rows } = await t.pool.query<{ seq: string; ts: string }>('SELECT seq, ts FROM events WHERE channel_id = $1 ORDER BY seq', [
        channel,
      ]);
      const seqs = rows.map((r) => Number(r.seq));
      expect(seqs).toEqual(Array.from({ length: final.get(channel)! }, (_, i) => i + 1));
      for (let i = 1; i < rows.length; i++) expect(BigInt(rows[i].ts) > BigInt(rows[i - 1].ts)).toBe(true);
    }

    // The socket got every event exactly once, in order, across its three resumes.
    await waitFor(() => channels.every((c) => client.last(c) === final.get(c)), 60_000, 'socket caught up');
    expectComplete(client, final);
    client.disconnect();

    // Unread counts (the projector reading the global cursor per worker): every post is unread for the reader.
    await waitFor(
      async () => {
        const res = await t.api('client.counts', reader.token);
        const counts = new Map<string, number>(res.body.channels.map((c: { id: string; unread_count: number }) => [c.id, c.unread_count]));
        return channels.every((c) => counts.get(c) === final.get(c)! - joinHeads.get(c)!);
      },
      60_000,
      'unread counts of every post',
    );

    // The global replay: every event once, each channel in seq order; resumable from any line's cursor.
    const all = await replayAll(t);
    const seen = new Map<string, number[]>();
    for (const e of all) seen.set(e.channel, [...(seen.get(e.channel) ?? []), e.seq]);
    for (const channel of channels) {
      const seqs = seen.get(channel) ?? [];
      if (seqs.length !== final.get(channel) || seqs.some((s, i) => s !== i + 1)) throw new Error(`${channel}: ${describeSeqs(seqs)}`);
    }
    // Resume in pages of 777 from the cursor each page ends with: the same events, in the same order.
    const paged: Array<{ channel: string; seq: number }> = [];
    let after: string | undefined;
    for (;;) {
      const page = await replayAll(t, after, 777);
      if (!page.length) break;
      paged.push(...page);
      after = page[page.length - 1].cursor;
      expect(after).toMatch(/^\d+:\d+-\d+(\.\d+:\d+-\d+)+$/);
    }
    expect(paged.map((e) => `${e.channel}:${e.seq}`)).toEqual(all.map((e) => `${e.channel}:${e.seq}`));
  }, 600_000);
});

async function replayAll(t: TestApp, after?: string, limit?: number) {
  const q = new URLSearchParams({ ...(after ? { after } : {}), ...(limit ? { limit: String(limit) } : {}) });
  const res = await fetch(`${t.url}/admin/v1/events?${q}`, { headers: { authorization: 'Bearer test-operator-token-0123456789' } });
  expect(res.status).toBe(200);
  const text = await res.text();
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { channel: string; seq: number; cursor: string });
}
