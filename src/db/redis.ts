import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../config/config.js';

/** A standalone Redis or a Redis Cluster: both take the same commands for keys of one slot. */
export type RedisClient = Redis | Cluster;

/** The settings that say where Redis is. */
export type RedisConfig = Pick<Config, 'REDIS_URL' | 'REDIS_CLUSTER_NODES'>;

/** Options of one connection, as for a standalone client; on a cluster they apply to every node's connection. */
export type RedisClientOptions = Pick<
  RedisOptions,
  'lazyConnect' | 'enableOfflineQueue' | 'maxRetriesPerRequest' | 'commandTimeout' | 'connectTimeout' | 'retryStrategy'
>;

/** True when the configuration names a Redis Cluster (REDIS_CLUSTER_NODES, or several REDIS_URLs). */
export function isRedisCluster(config: RedisConfig): boolean {
  return config.REDIS_CLUSTER_NODES !== undefined || config.REDIS_URL.includes(',');
}

/**
 * The one place that builds a Redis client: every user of Redis (BullMQ, rate limits, auth-failure
 * counters, readiness) goes through it, so the switch to a cluster is one setting.
 */
export function createRedis(config: RedisConfig, options: RedisClientOptions = {}): RedisClient {
  const urls = config.REDIS_URL.split(',').map((u) => u.trim());
  if (!isRedisCluster(config)) return new Redis(urls[0]!, options);

  const first = new URL(urls[0]!);
  if (first.pathname.length > 1 && first.pathname !== '/0')
    throw new Error('a Redis Cluster has database 0 only: drop the /<db> from REDIS_URL');
  const seeds = (config.REDIS_CLUSTER_NODES ?? config.REDIS_URL).split(',').map((node) => {
    const { hostname, port } = new URL(/^rediss?:\/\//.test(node.trim()) ? node.trim() : `redis://${node.trim()}`);
    return { host: hostname, port: Number(port || 6379) };
  });
  const { lazyConnect, enableOfflineQueue, retryStrategy, ...perNode } = options;
  const clusterOptions: ClusterOptions = {
    lazyConnect,
    enableOfflineQueue,
    // Reconnecting the whole cluster follows the same policy a standalone client would.
    ...(retryStrategy ? { clusterRetryStrategy: retryStrategy } : {}),
    redisOptions: {
      ...perNode,
      username: first.username ? decodeURIComponent(first.username) : undefined,
      password: first.password ? decodeURIComponent(first.password) : undefined,
      ...(first.protocol === 'rediss:' ? { tls: {} } : {}),
    },
  };
  return new Cluster(seeds, clusterOptions);
}

/** The Redis servers to visit for a key scan: every master of a cluster, or the one server. */
export function scanTargets(client: RedisClient): Redis[] {
  return client instanceof Cluster ? client.nodes('master') : [client];
}
