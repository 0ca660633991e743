import type pg from 'pg';
import { PG_POOL } from '../../src/db/database.module.js';
import { RetentionService } from '../../src/jobs/retention/retention.service.js';
import { JobRunsService } from '../../src/jobs/runs/job-runs.service.js';
import type { JobsApp } from './app.js';
import { type Measured, measure } from './measure.js';
import type { SeededWorkspace } from './seed.js';

/** RetentionService's default batch; the baseline deletes as many rows per statement. */
export const SWEEP_BATCH = 500;
const DAY_MS = 86_400_000;

/**
 * Ours: a workspace policy of one day and a sweep run with the clock two days ahead, so every
 * message has expired. Each batch appends a message_deleted event per message, deletes the
 * bodies and counts progress, in one append transaction on the channel.
 */
export async function sweepWithRetention(app: JobsApp, ws: SeededWorkspace): Promise<Measured> {
  const retention = app.context.get(RetentionService);
  await retention.setPolicy(ws.workspace, null, 1);
  const run = await retention.createRun(ws.workspace);
  const now = new Date(Date.now() + 2 * DAY_MS);
  const result = await measure(app.monitor, async () => Number((await app.context.get(JobRunsService).execute(run.id, { now })).progress));
  const left = await remaining(app.context.get(PG_POOL), ws.workspace);
  const tombstones = await app.context.get<symbol, pg.Pool>(PG_POOL).query<{ n: number }>(
    `SELECT count(*)::int AS n FROM events e JOIN channels c ON c.id = e.channel_id
      WHERE c.workspace_id = $1 AND e.type = 'message_deleted'`,
    [ws.workspace],
  );
  if (left !== 0 || result.items !== ws.count || tombstones.rows[0].n !== ws.count) {
    throw new Error(`retention swept ${result.items} of ${ws.count}; ${left} bodies left, ${tombstones.rows[0].n} redaction events`);
  }
  return result;
}

/**
 * Context, not a like-for-like baseline: `DELETE ... LIMIT batch` loops per channel (PostgreSQL
 * has no DELETE LIMIT, so the batch is picked by a subquery), autocommitted, on the app's pool;
 * no redaction events, no channel lock, no thread bookkeeping, no progress row.
 */
export async function sweepRaw(app: JobsApp, ws: SeededWorkspace): Promise<Measured> {
  const pool = app.context.get<symbol, pg.Pool>(PG_POOL);
  const before = (BigInt(Date.now() + DAY_MS) * 1000n).toString();
  const result = await measure(app.monitor, async () => {
    let total = 0;
    for (const channel of ws.channels) {
      for (;;) {
        const { rowCount } = await pool.query(
          `DELETE FROM messages WHERE channel_id = $1 AND seq IN (
             SELECT seq FROM messages WHERE channel_id = $1 AND ts < $2 ORDER BY ts LIMIT $3)`,
          [channel, before, SWEEP_BATCH],
        );
        if (!rowCount) break;
        total += rowCount;
      }
    }
    return total;
  });
  const left = await remaining(pool, ws.workspace);
  if (left !== 0 || result.items !== ws.count) throw new Error(`raw delete removed ${result.items} of ${ws.count}`);
  return result;
}

async function remaining(pool: pg.Pool, workspace: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM messages m JOIN channels c ON c.id = m.channel_id WHERE c.workspace_id = $1',
    [workspace],
  );
  return rows[0].n;
}
