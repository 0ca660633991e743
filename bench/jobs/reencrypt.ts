import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { EkmService } from '../../src/jobs/ekm/ekm.service.js';
import { JobRunsService } from '../../src/jobs/runs/job-runs.service.js';
import { newDataKey, seal } from '../../src/crypto/envelope.js';
import { inTransaction } from '../../src/db/database.js';
import { PG_POOL } from '../../src/db/database.module.js';
import { EventStore } from '../../src/event-store/event-store.js';
import type { JobsApp } from './app.js';
import { type Measured, measure } from './measure.js';
import { messageText, type SeededWorkspace } from './seed.js';

/** What EkmRunner seals per transaction (its BATCH); the baseline uses the same. */
export const SEAL_BATCH = 200;
/** Bytes a sealed box adds to its plaintext (version, IV, tag), taken from the real envelope. */
const SEAL_OVERHEAD = seal(newDataKey(), '', 'overhead').length;

/** Ours: enable EKM (local provider) for the workspace, then time the encrypt run (`JobRunsService.execute`). */
export async function sealWithEkm(app: JobsApp, ws: SeededWorkspace): Promise<Measured> {
  const ekm = app.context.get(EkmService);
  const run = await ekm.enable(ws.workspace, 'local', undefined);
  const result = await measure(app.monitor, async () => Number((await app.context.get(JobRunsService).execute(run.id)).progress));
  const left = await bodies(app.context.get(PG_POOL), ws.workspace);
  if (left.plaintext !== 0 || left.sealed !== ws.count || result.items !== ws.count) {
    throw new Error(`EKM run sealed ${result.items} bodies; ${left.plaintext} plaintext and ${left.sealed} sealed remain of ${ws.count}`);
  }
  // The boxes really open to the original text (the first message of the first channel is message 0).
  const [first] = await app.context.get(EventStore).readChannel(ws.channels[0], 0, 1);
  if ((first as { text?: string }).text !== messageText(0)) throw new Error('a sealed body did not open to its text');
  return result;
}

/**
 * The baseline: the same rows of an identical workspace read and written in the same transaction
 * shape as EkmRunner.sealExisting (SELECT ... FOR UPDATE SKIP LOCKED of a batch of plaintext
 * rows, then one UPDATE of the whole batch writing random byteas as long as the sealed boxes), on the
 * app's own pool; no key lookups, no encryption, no progress row.
 */
export async function sealRaw(app: JobsApp, ws: SeededWorkspace): Promise<Measured> {
  const pool = app.context.get<symbol, pg.Pool>(PG_POOL);
  const result = await measure(app.monitor, async () => {
    let total = 0;
    for (;;) {
      const n = await inTransaction(pool, async (tx) => {
        const { rows } = await tx.query<{ channel_id: string; seq: string; text: string }>(
          `SELECT m.channel_id, m.seq, m.text FROM messages m JOIN channels c ON c.id = m.channel_id
            WHERE c.workspace_id = $1 AND m.text IS NOT NULL AND m.body_enc IS NULL
            ORDER BY m.channel_id, m.seq LIMIT $2 FOR UPDATE OF m SKIP LOCKED`,
          [ws.workspace, SEAL_BATCH],
        );
        if (rows.length) {
          const boxes = rows.map((row) => randomBytes(Buffer.byteLength(row.text) + SEAL_OVERHEAD));
          await tx.query(
            `UPDATE messages m SET text = NULL, attachments = NULL, body_enc = u.body_enc, data_key_id = 0
               FROM unnest($1::text[], $2::bigint[], $3::bytea[]) AS u(channel_id, seq, body_enc)
              WHERE m.channel_id = u.channel_id AND m.seq = u.seq`,
            [rows.map((r) => r.channel_id), rows.map((r) => r.seq), boxes],
          );
        }
        return rows.length;
      });
      if (!n) return total;
      total += n;
    }
  });
  const left = await bodies(pool, ws.workspace);
  if (left.plaintext !== 0 || result.items !== ws.count) throw new Error(`raw sealing wrote ${result.items} of ${ws.count}`);
  return result;
}

async function bodies(pool: pg.Pool, workspace: string) {
  const { rows } = await pool.query<{ plaintext: number; sealed: number }>(
    `SELECT count(*) FILTER (WHERE m.text IS NOT NULL)::int AS plaintext, count(*) FILTER (WHERE m.body_enc IS NOT NULL)::int AS sealed
       FROM messages m JOIN channels c ON c.id = m.channel_id WHERE c.workspace_id = $1`,
    [workspace],
  );
  return rows[0];
}
