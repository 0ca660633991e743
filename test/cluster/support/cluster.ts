import type pg from 'pg';
import { createCitusDatabase } from '../../support/citus.js';
import type { TestDatabase } from '../../support/databases.js';
import { startRedisCluster } from '../../support/redis-cluster.js';

/** The coordinator's port (global-setup.mjs started the cluster); workers are the next ports. */
export function coordinatorPort(): number {
  const port = Number(process.env.ATOMCAST_CITUS_PORT);
  if (!port) throw new Error('no Citus cluster: run the cluster suite with `npm run test:cluster`');
  return port;
}

/**
 * The one place the cluster suite chooses its Redis: a throw-away 3-master Redis Cluster per spec
 * file (issue 16: the scale-out suite runs BullMQ, rate limits and auth-failure counters on Redis
 * Cluster as well as the database on Citus). `stop()` in the file's afterAll.
 */
export async function startClusterRedis(): Promise<{ env: Record<string, string>; stop(): Promise<void> }> {
  const cluster = await startRedisCluster();
  return { env: { REDIS_CLUSTER_NODES: cluster.nodes }, stop: cluster.stop };
}

/** A throw-away distributed database on the suite's cluster. */
export function createClusterDatabase(): Promise<TestDatabase> {
  return createCitusDatabase(coordinatorPort());
}

/** Which worker group holds a channel's shard. */
export async function groupOf(db: pg.Pool | pg.Client, channel: string): Promise<number> {
  const { rows } = await db.query<{ groupid: number }>(
    `SELECT p.groupid FROM pg_dist_placement p WHERE p.shardid = get_shard_id_for_distribution_column('channels', $1::text)`,
    [channel],
  );
  return rows[0].groupid;
}
