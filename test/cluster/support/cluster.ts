import type pg from 'pg';
import { createCitusDatabase } from '../../support/citus.js';
import type { TestDatabase } from '../../support/databases.js';

/** The coordinator's port (global-setup.mjs started the cluster); workers are the next ports. */
export function coordinatorPort(): number {
  const port = Number(process.env.ATOMCAST_CITUS_PORT);
  if (!port) throw new Error('no Citus cluster: run the cluster suite with `npm run test:cluster`');
  return port;
}

/**
 * The one place the cluster suite chooses its Redis: CLUSTER_REDIS_URL, else the shared server.
 * (A Redis Cluster for these specs is wired here: its seed node's URL, with REDIS_CLUSTER_NODES set.)
 */
export function clusterRedisEnv(): Record<string, string> {
  return process.env.CLUSTER_REDIS_URL ? { REDIS_URL: process.env.CLUSTER_REDIS_URL } : {};
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
