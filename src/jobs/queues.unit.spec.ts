import { loadConfig } from '../config/config.js';
import { QUEUES, queuePrefix } from './queues.js';

describe('queuePrefix', () => {
  it('keeps the plain prefix on a standalone Redis (existing keys stay where they are)', () => {
    expect(queuePrefix(loadConfig({}), QUEUES.unfurl)).toBe('atomcast');
  });

  it.each([
    [{ REDIS_CLUSTER_NODES: '127.0.0.1:7000' }, 'REDIS_CLUSTER_NODES'],
    [{ REDIS_URL: 'redis://127.0.0.1:7000,redis://127.0.0.1:7001' }, 'several REDIS_URLs'],
  ])('gives each queue its own hash tag on a cluster (%j: %s)', (env, _how) => {
    const config = loadConfig(env);
    expect(queuePrefix(config, QUEUES.unfurl)).toBe('atomcast:{atomcast-unfurl}');
    expect(queuePrefix(config, QUEUES.retention)).toBe('atomcast:{atomcast-retention}');
  });

  it('uses a JOBS_PREFIX that holds a hash tag as it is: every queue in that slot', () => {
    const config = loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7000', JOBS_PREFIX: '{atomcast}' });
    expect(Object.values(QUEUES).map((q) => queuePrefix(config, q))).toEqual(Object.values(QUEUES).map(() => '{atomcast}'));
  });
});
