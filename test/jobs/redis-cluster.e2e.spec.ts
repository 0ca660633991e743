import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Cluster } from 'ioredis';
import { createRedis, scanTargets } from '../../src/db/redis.js';
import { EventStore } from '../../src/event-store/event-store.js';
import { QUEUES, queuePrefix } from '../../src/jobs/queues.js';
import { startTwoNodes, type TwoNodes } from '../support/nodes.js';
import { startRedisCluster } from '../support/redis-cluster.js';
import { TestApp, type TestUser } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

const DAY_US = 86_400_000_000;

// Every Redis user of the app (BullMQ queues and workers, the shared rate limits, auth-failure
// counters, readiness) on a 3-master Redis Cluster, end to end: two nodes over one database.
describe('on a Redis Cluster', () => {
  let cluster: Awaited<ReturnType<typeof startRedisCluster>>;
  let nodes: TwoNodes;
  let n1: TestApp;
  let n2: TestApp;
  let site: Server;
  let siteUrl: string;
  let ws: string;
  let ada: TestUser;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    site = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        `<html><head><meta property="og:title" content="Page ${req.url}"><meta property="og:site_name" content="Docs"></head></html>`,
      );
    });
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
    siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    const env = {
      REDIS_CLUSTER_NODES: cluster.nodes,
      UNFURL_ALLOW_LOOPBACK: 'true',
      JOBS_DISPATCH_INTERVAL_MS: '50',
      RATE_LIMIT_PER_MINUTE: '40',
      AUTH_FAILURES_PER_MINUTE: '3',
    };
    ({ n1, n2 } = nodes = await startTwoNodes(env, { ROLES: 'api', JOBS_DISPATCHER_ENABLED: 'false', PROJECTOR_ENABLED: 'false' }));
    ws = await n1.newWorkspace();
    ada = await n1.newUser(ws, 'admin');
  }, 90_000);
  afterAll(async () => {
    await nodes?.close();
    await cluster?.stop();
    await new Promise((r) => site?.close(r));
  });

  const events = (channel: string) => n1.app.get(EventStore).readChannel(channel, 0, 100);

  it('runs the unfurl, retention and scheduled-message jobs', async () => {
    const channel = await n1.newChannel(ada, 'cluster-jobs');

    // Unfurl: post -> stream -> dispatcher -> BullMQ on the cluster -> worker -> message_changed.
    const posted = await n1.api('chat.postMessage', ada.token, { channel, text: `see ${siteUrl}/a` });
    expect(posted.body.ok).toBe(true);
    await waitFor(async () => (await events(channel)).some((e) => e.type === 'message_changed'), 30_000, 'the unfurl');
    const [message] = (await n1.api('conversations.history', ada.token, { channel })).body.messages;
    expect(message.attachments.map((a: { title: string }) => a.title)).toEqual(['Page /a']);

    // Scheduled message: a delayed job on the cluster, posted once at its time.
    const postAt = Math.floor(Date.now() / 1000) + 2;
    const scheduled = await n1.api('chat.scheduleMessage', ada.token, { channel, text: 'at its time', post_at: postAt });
    expect(scheduled.body.ok).toBe(true);
    // Polled in the database: the API would spend the token's small budget.
    const texts = async () =>
      (await n1.pool.query<{ text: string }>('SELECT text FROM messages WHERE channel_id = $1 ORDER BY seq DESC', [channel])).rows.map(
        (r) => r.text,
      );
    await waitFor(async () => (await texts()).includes('at its time'), 30_000, 'the scheduled message');

    // Retention: a run recorded by the admin API, queued by the dispatcher, carried out by a worker.
    const old = await n1.api('chat.postMessage', ada.token, { channel, text: 'forty days old' });
    const oldTs = BigInt(old.body.ts.replace('.', ''));
    // Age one body (retention reads its ts) so that a 30-day policy expires it and nothing else.
    await n1.pool.query('UPDATE messages SET ts = ts - $3 WHERE channel_id = $1 AND ts = $2', [channel, oldTs, 40 * DAY_US]);
    expect((await n1.admin('PUT', `/workspaces/${ws}/retention`, { keep_days: 30 })).status).toBe(200);
    const run = await n1.admin('POST', `/workspaces/${ws}/retention/runs`);
    expect(run.status).toBe(202);
    const runPath = `/workspaces/${ws}/retention/runs/${run.body.id}`;
    await waitFor(async () => (await n1.admin('GET', runPath)).body.status === 'done', 30_000, 'the retention run');
    expect((await n1.admin('GET', runPath)).body).toMatchObject({ status: 'done', deleted: '1' });
    expect(await texts()).toEqual(['at its time', `see ${siteUrl}/a`]);
    const redactions = (await events(channel)).filter((e) => e.type === 'message_deleted');
    expect(redactions).toEqual([expect.objectContaining({ reason: 'retention' })]);

    // Queue status comes from the cluster too.
    const jobs = await n1.admin('GET', '/jobs');
    const counts = Object.fromEntries(
      jobs.body.queues.map((q: { queue: string; counts: { completed: number } }) => [q.queue, q.counts.completed]),
    );
    expect(counts).toMatchObject({ [QUEUES.unfurl]: 1, [QUEUES.scheduled]: 1 });
    expect(counts[QUEUES.retention]).toBeGreaterThanOrEqual(1); // ours, and the dispatcher's first scheduled sweep
    expect((await fetch(`${n1.url}/readyz`).then((r) => r.json())) as object).toMatchObject({ status: 'ok', redis: 'ok' });
  });

  it("keeps each queue's keys in one slot (its hash tag), the queues spread over the masters", async () => {
    const redis = createRedis(n1.config);
    try {
      await waitFor(() => (redis as Cluster).status === 'ready', 10_000, 'the cluster client');
      const slotsOf = async () => {
        const slotsByQueue = new Map<string, Set<number>>();
        for (const node of scanTargets(redis)) {
          const keys = await node.keys(`${n1.config.JOBS_PREFIX}:*`);
          for (const key of keys) {
            const queue = Object.values(QUEUES).find((q) => key.startsWith(`${queuePrefix(n1.config, q)}:${q}:`));
            if (!queue) continue; // rate-limit counters: one key each, any slot
            const slot = Number(await node.cluster('KEYSLOT', key));
            slotsByQueue.set(queue, (slotsByQueue.get(queue) ?? new Set()).add(slot));
          }
        }
        return slotsByQueue;
      };
      // Workers keep a queue's meta keys even while it is empty (each worker makes them when it starts).
      let slotsByQueue = await slotsOf();
      await waitFor(async () => (slotsByQueue = await slotsOf()).size === Object.values(QUEUES).length, 20_000, "every queue's keys");
      expect([...slotsByQueue.keys()].sort()).toEqual(Object.values(QUEUES).sort());
      for (const slots of slotsByQueue.values()) expect(slots.size).toBe(1);
      expect(new Set([...slotsByQueue.values()].map((s) => [...s][0])).size).toBeGreaterThan(1);
    } finally {
      redis.disconnect();
    }
  });

  it('two nodes draw from one /api budget per token, kept on the cluster', async () => {
    const bob = await n1.newUser(ws);
    const statuses = [];
    for (let i = 0; i < 42; i++) statuses.push((await (i % 2 ? n2 : n1).api('auth.test', bob.token)).status);
    expect(statuses.slice(0, 40).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(40)).toEqual([429, 429]);
  });

  // Last: it blocks 127.0.0.1 for the rest of the minute.
  it('counts failed authentications per address across nodes, on the cluster', async () => {
    const bad = [
      await n1.api('auth.test', 'xoxp-nope-1'),
      await n2.api('auth.test', 'xoxp-nope-2'),
      await n1.api('auth.test', 'xoxp-nope-3'),
    ];
    expect(bad.map((r) => r.body.error)).toEqual(['invalid_auth', 'invalid_auth', 'invalid_auth']);
    // n1 answered the failure that used the shared budget up: it refuses the address now, good token too.
    const good = await n1.api('auth.test', ada.token);
    expect(good.status).toBe(429);
    expect(good.body).toEqual({ ok: false, error: 'ratelimited' });
    // n2 learns it from the cluster at its next failure (counted past the budget), then refuses too.
    expect((await n2.api('auth.test', 'xoxp-nope-4')).body.error).toBe('invalid_auth');
    expect((await n2.api('auth.test', ada.token)).body).toEqual({ ok: false, error: 'ratelimited' });
  });
});
