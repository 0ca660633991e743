import { Redis } from 'ioredis';
import { SharedBudget } from '../../src/rate-limit/shared-budget.js';
import { waitFor } from '../support/wait-for.js';

// A large budget is taken from Redis a lease (1% of it) at a time and granted from memory; over two
// nodes the budget is still one: every point is granted once, none twice, none lost.
describe('a shared budget taken in leases', () => {
  const prefix = `lease-test-${process.pid}-${Date.now()}`;
  const redis = new Redis('redis://127.0.0.1:6379');
  const [node1, node2] = [
    new SharedBudget({ REDIS_URL: 'redis://127.0.0.1:6379' }, prefix, 1005),
    new SharedBudget({ REDIS_URL: 'redis://127.0.0.1:6379' }, prefix, 1005),
  ];
  afterAll(async () => {
    node1.close();
    node2.close();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  // Until its connection is up a node counts in memory: wait until each one counts in Redis.
  beforeAll(async () => {
    let warm = 0;
    for (const node of [node1, node2])
      await waitFor(
        async () => {
          const key = `warm${++warm}`;
          await node.consume(key);
          return (await redis.get(`${prefix}:${key}`)) !== null;
        },
        5000,
        'the node counting in Redis',
      );
  });

  const grants = async (node: SharedBudget, key: string, max: number) => {
    let granted = 0;
    while (granted < max && (await node.consume(key)) === undefined) granted++;
    return granted;
  };

  it('one round trip takes a lease of 10 points; two nodes grant exactly the budget of 1,005, then Retry-After', async () => {
    expect(await node1.consume('T1')).toBeUndefined();
    expect(Number(await redis.get(`${prefix}:T1`))).toBe(10);
    // Concurrent calls share the node's lease (and its renewal): 22 more on node1 take 2 more leases.
    const concurrent = await Promise.all(Array.from({ length: 22 }, () => node1.consume('T1')));
    expect(concurrent.every((r) => r === undefined)).toBe(true);
    expect(Number(await redis.get(`${prefix}:T1`))).toBe(30);
    // node2 takes what is left in Redis: 97 leases, then 5 points one by one (a lease no longer fits).
    expect(await grants(node2, 'T1', 2000)).toBe(975);
    const retry = await node2.consume('T1');
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
    // node1 still grants the 7 points of its lease, and no more.
    expect(await grants(node1, 'T1', 100)).toBe(7);
    expect(await node1.consume('T1')).toBeGreaterThanOrEqual(1);
    // Another key has its own budget.
    expect(await node2.consume('T2')).toBeUndefined();
  });

  // The guard's synchronous path: points of a lease in hand, nothing else; the budget stays one.
  it('tryConsume grants only from a lease in memory, and shares its points with consume', async () => {
    expect(node1.tryConsume('T3')).toBe(false); // no lease yet: nothing taken, consume decides
    expect(await redis.get(`${prefix}:T3`)).toBeNull();
    expect(await node1.consume('T3')).toBeUndefined(); // takes a lease of 10, grants 1
    let sync = 0;
    while (node1.tryConsume('T3')) sync++;
    expect(sync).toBe(9);
    expect(Number(await redis.get(`${prefix}:T3`))).toBe(10);
    expect(await node1.consume('T3')).toBeUndefined(); // the lease used up: the next one comes from Redis
    expect(Number(await redis.get(`${prefix}:T3`))).toBe(20);
  });
});
