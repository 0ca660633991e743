import type pg from 'pg';
import { inTransaction } from '../db/database.js';
import type { EventStore } from '../event-store/event-store.js';
import { START } from '../event-store/events.js';
import { lockCheckpoint, Projector } from './projector.js';
import type { Projection } from './projection.js';

export interface RebuildResult {
  events: number;
  seconds: number;
  /** Whether this process replayed the log itself, or waited for the leader on another node. */
  replayedHere: boolean;
}

/**
 * Rebuilds a projection from position 0: truncates its tables and resets its checkpoint in one
 * transaction (serialized with any running batch by the checkpoint row lock), then replays. If a
 * projector on another node leads the projection, it does the replay and this waits for it to catch
 * up; otherwise this process takes the lead and replays itself. Readers see the counts grow back
 * while the replay runs.
 */
export async function rebuildProjection(
  pool: pg.Pool,
  databaseUrl: string,
  store: EventStore,
  projection: Projection,
  opts: { batchSize?: number; timeoutMs?: number; onProgress?: (applied: number) => void } = {},
): Promise<RebuildResult> {
  const started = performance.now();
  await inTransaction(pool, async (db) => {
    await lockCheckpoint(db, projection.name);
    if (projection.tables.length) await db.query(`TRUNCATE ${projection.tables.join(', ')}`);
    await store.storeCheckpoint(db, projection.name, START);
  });
  const projector = new Projector(projection, store, {
    databaseUrl,
    pool,
    batchSize: opts.batchSize ?? 1000,
    intervalMs: 1000,
  });
  try {
    const events = await projector.catchUp({ timeoutMs: opts.timeoutMs ?? 24 * 3600_000, onProgress: opts.onProgress });
    return { events, seconds: (performance.now() - started) / 1000, replayedHere: projector.isLeader };
  } finally {
    await projector.stop();
  }
}
