import net from 'node:net';
import { TestClient } from '../realtime/support.js';
import { startTwoNodes, type TwoNodes } from '../support/nodes.js';
import { TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';
import { SharedBudget } from '../../src/rate-limit/shared-budget.js';

// Budgets are kept in Redis, so N nodes behind a balancer allow one budget, not N; while Redis is
// unreachable each node still limits on its own, without waiting for Redis.
describe('rate limits across nodes', () => {
  let nodes: TwoNodes;
  let n1: TestApp;
  let n2: TestApp;
  beforeAll(async () => {
    ({ n1, n2 } = nodes = await startTwoNodes({ RATE_LIMIT_PER_MINUTE: '4' }));
  });
  afterAll(() => nodes?.close());

  it('two nodes over one Redis share one /api budget per token', async () => {
    const user = await n1.newUser(await n1.newWorkspace());
    const calls = [];
    for (const node of [n1, n2, n1, n2, n1, n2]) calls.push(await node.api('auth.test', user.token));
    expect(calls.map((c) => c.status)).toEqual([200, 200, 200, 200, 429, 429]);
    expect(calls[4].body).toEqual({ ok: false, error: 'ratelimited' });
  });

  it('two nodes over one Redis share one socket command budget per token', async () => {
    const user = await n1.newUser(await n1.newWorkspace());
    const a = await new TestClient(user, n1.url).connect({ ready: false });
    const b = await new TestClient(user, n2.url).connect({ ready: false });
    try {
      const acks = [];
      for (const c of [a, b, a, b, a, b]) acks.push(await c.ack('sync', { cursors: {} }));
      expect(acks.map((x) => x.ok)).toEqual([true, true, true, true, false, false]);
      expect(acks[4]).toEqual({ ok: false, error: 'ratelimited', retry_after: expect.any(Number) });
    } finally {
      a.disconnect();
      b.disconnect();
    }
  });
});

/** A TCP hop to the shared Redis that a test can cut: every connection dropped, new ones refused. */
async function redisProxy() {
  const open = new Set<net.Socket>();
  let down = false;
  const server = net.createServer((client) => {
    if (down) return void client.destroy();
    const upstream = net.connect(6379, '127.0.0.1');
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('error', () => {});
      s.on('close', () => open.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `redis://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    cut: () => {
      down = true;
      for (const s of open) s.destroy();
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

// The app's BullMQ connections cannot close while Redis is away, so this part drives the budget alone.
describe('a shared budget with Redis unreachable', () => {
  it('limits per node and answers at once', async () => {
    const proxy = await redisProxy();
    const prefix = `ratelimit-test-${process.pid}-${Date.now()}`;
    const [node1, node2] = [new SharedBudget({ REDIS_URL: proxy.url }, prefix, 3), new SharedBudget({ REDIS_URL: proxy.url }, prefix, 3)];
    try {
      // Both connected: three points taken on one node leave none on the other.
      let attempt = 0;
      const shared = async () => {
        const key = `warm${++attempt}`;
        for (let i = 0; i < 3; i++) await node1.consume(key);
        return (await node2.consume(key)) !== undefined;
      };
      await waitFor(shared, 5000, 'both nodes counting in redis');
      proxy.cut();
      const started = Date.now();
      const outage = [];
      for (let i = 0; i < 4; i++) outage.push(await node1.consume('T2'));
      expect(outage.slice(0, 3)).toEqual([undefined, undefined, undefined]);
      expect(outage[3]).toBeGreaterThanOrEqual(1);
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      node1.close();
      node2.close();
      await proxy.close();
    }
  });
});
