import { loadConfig } from './config.js';

describe('loadConfig', () => {
  it('fills the documented defaults', () => {
    expect(loadConfig({})).toMatchObject({
      PORT: 3000,
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/atomcast',
      REDIS_URL: 'redis://127.0.0.1:6379',
    });
  });

  it.each([
    [{ PORT: 'eighty' }, /^invalid configuration: PORT /],
    [{ PORT: '70000' }, /^invalid configuration: PORT /],
    [{ DATABASE_URL: 'mysql://x' }, /^invalid configuration: DATABASE_URL must be a postgres:\/\/ URL$/],
    [{ REDIS_URL: 'nope' }, /^invalid configuration: REDIS_URL must be a redis:\/\/ URL \(or several, comma-separated\)$/],
    [{ REDIS_URL: 'redis://127.0.0.1:7000,nope' }, /^invalid configuration: REDIS_URL must be a redis:\/\/ URL/],
    [{ REDIS_CLUSTER_NODES: '127.0.0.1' }, /^invalid configuration: REDIS_CLUSTER_NODES must be comma-separated host:port/],
    [
      { REDIS_URL: 'redis://127.0.0.1:7000/2', REDIS_CLUSTER_NODES: '127.0.0.1:7000' },
      /^invalid configuration: REDIS_URL names a database, but a Redis Cluster has database 0 only$/,
    ],
    [{ JOBS_PREFIX: 'a{b}c{d}' }, /^invalid configuration: JOBS_PREFIX /],
    [{ JOBS_PREFIX: 'a{}' }, /^invalid configuration: JOBS_PREFIX /],
    [{ JOBS_PREFIX: 'a b' }, /^invalid configuration: JOBS_PREFIX /],
    [{ ADMIN_TOKEN: 'short' }, /^invalid configuration: ADMIN_TOKEN must be at least 16 characters$/],
  ])('refuses %j with a one-line reason', (env, reason) => {
    expect(() => loadConfig(env)).toThrow(reason);
    try {
      loadConfig(env);
    } catch (err) {
      expect((err as Error).message).not.toContain('\n');
    }
  });

  it('takes a Redis Cluster by its nodes and a hash tag in JOBS_PREFIX', () => {
    expect(
      loadConfig({
        REDIS_URL: 'redis://127.0.0.1:7000, redis://127.0.0.1:7001',
        REDIS_CLUSTER_NODES: '127.0.0.1:7000,10.0.0.2:7001',
        JOBS_PREFIX: '{atomcast}',
      }),
    ).toMatchObject({ REDIS_CLUSTER_NODES: '127.0.0.1:7000,10.0.0.2:7001', JOBS_PREFIX: '{atomcast}' });
  });

  it('names every bad value at once', () => {
    expect(() => loadConfig({ PORT: '-1', DATABASE_URL: 'x' })).toThrow(/PORT .*; DATABASE_URL /);
  });
});
