import type { Queryable } from '../db/database.js';

/** Which node groups hold events, and where to ask each for its oldest running transaction. */
interface Topology {
  at: number;
  /** Group id -> a channel key whose shard the group holds (undefined: the coordinator, group 0). */
  groups: Map<string, string | undefined>;
}

const TOPOLOGY_TTL_MS = 10_000;

/**
 * The global cursor's clocks on Citus (docs/scaling.md, "Consumers without a global clock"). Each
 * node group is a PostgreSQL server with its own transaction ids and snapshots; events.tx_id and
 * tx_node are stamped on the worker that holds the row (events_stamp_tx()). For each group this
 * finds the oldest transaction still running there (pg_snapshot_xmin), asked on that node by a
 * one-row router query to a shard it holds. A bound taken before the read is safe: every
 * transaction below it had finished, so any later snapshot on that node sees all of its rows.
 */
export class ClusterClock {
  private detected: Promise<boolean> | undefined;
  private topology: Topology | undefined;

  constructor(
    private readonly pool: Queryable,
    /** DATABASE_DISTRIBUTION: 'single' never asks the database. */
    private readonly distribution: 'auto' | 'single' | 'citus' = 'auto',
  ) {}

  /** Whether events is a distributed table here (asked once per process). */
  distributed(): Promise<boolean> {
    if (this.distribution === 'single') return Promise.resolve(false);
    this.detected ??= (async () => {
      const { rows } = await this.pool.query<{ citus: boolean }>(`SELECT to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL AS citus`);
      if (!rows[0].citus) return false;
      const dist = await this.pool.query<{ yes: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = to_regclass('public.events') AND partmethod = 'h') AS yes`,
      );
      return dist.rows[0].yes;
    })();
    this.detected.catch(() => (this.detected = undefined)); // a failed probe (database down) is asked again
    return this.detected;
  }

  /** The node groups whose clocks count: the coordinator (0) and every active worker group. */
  async groups(db: Queryable = this.pool): Promise<string[]> {
    return [...(await this.load(db)).groups.keys()];
  }

  /** Each group's oldest running transaction id now (events of that group below it are final). */
  async frontier(db: Queryable): Promise<Map<string, string>> {
    const topology = await this.load(db);
    const out = new Map<string, string>();
    for (const [group, key] of topology.groups) {
      const { rows } = await db.query<{ xmin: string }>(
        key === undefined
          ? 'SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin'
          : // an aggregate answers one row even with no such channel; Citus runs it on the shard's node
            'SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin, count(*) FROM channels WHERE id = $1',
        key === undefined ? [] : [key],
      );
      out.set(group, rows[0].xmin);
    }
    return out;
  }

  private async load(db: Queryable): Promise<Topology> {
    if (this.topology && Date.now() - this.topology.at < TOPOLOGY_TTL_MS) return this.topology;
    // One probe key per worker group: the first of probe1, probe2, ... whose shard the group holds.
    const { rows } = await db.query<{ groupid: number; k: string | null }>(
      `SELECT n.groupid, (SELECT 'probe' || i FROM generate_series(1, 10000) i
                            JOIN pg_dist_placement p ON p.shardid = get_shard_id_for_distribution_column('channels', 'probe' || i)
                           WHERE p.groupid = n.groupid LIMIT 1) AS k
         FROM (SELECT DISTINCT groupid FROM pg_dist_node WHERE isactive AND noderole = 'primary') n ORDER BY n.groupid`,
    );
    const groups = new Map<string, string | undefined>([['0', undefined]]);
    for (const r of rows) if (r.groupid !== 0 && r.k) groups.set(String(r.groupid), r.k);
    this.topology = { at: Date.now(), groups };
    return this.topology;
  }
}
