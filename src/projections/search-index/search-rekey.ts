import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { BodyCipher } from '../../crypto/body-cipher.js';
import { SearchKeys } from '../../crypto/search-keys.js';
import { PG_POOL } from '../../db/database.module.js';
import { inTransaction } from '../../db/database.js';
import { MESSAGE_COLUMNS, type MessageRow, toSlackMessage } from '../../domain/message.js';
import { indexRow, upsertRows } from './search-index.projection.js';
import { searchableText } from './searchable-text.js';

const BATCH = 500;

interface StaleRow {
  channel_id: string;
  ts: string;
  user_id: string;
  thread_ts: string | null;
}

/**
 * Re-indexes a workspace's search rows made with anything but its current key: after EKM is
 * enabled (plain words become blind tokens) and after a rotation (tokens of the new key version).
 * Run by the EKM job runs (jobs/ekm), never on a request. Each batch locks its rows, reads and
 * opens their bodies, and rewrites their tokens in one transaction; rows written meanwhile with an
 * older key are found by the next pass, so the loop ends only when none is left. Keys no row uses
 * any more are then dropped.
 */
@Injectable()
export class SearchRekey {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly keys: SearchKeys,
    private readonly cipher: BodyCipher,
  ) {}

  /** Rows re-indexed (or removed: a body gone or revoked cannot be re-indexed). */
  async run(workspace: string, onBatch?: (rows: number) => Promise<void>): Promise<number> {
    const key = await this.keys.current(workspace, true);
    let total = 0;
    for (;;) {
      const n = await inTransaction(this.pool, async (tx) => {
        // Found first, then locked channel by channel: a locking read across channels is a
        // multi-shard FOR UPDATE, which Citus refuses (search_messages is distributed by channel).
        const { rows: found } = await tx.query<{ channel_id: string; ts: string }>(
          `SELECT channel_id, ts::text FROM search_messages
            WHERE workspace_id = $1 AND key_version IS DISTINCT FROM $2
            ORDER BY workspace_id, ts LIMIT ${BATCH}`,
          [workspace, key?.version ?? null],
        );
        if (!found.length) return 0;
        const byChannel = new Map<string, string[]>();
        for (const r of found) byChannel.set(r.channel_id, [...(byChannel.get(r.channel_id) ?? []), r.ts]);
        const rows: StaleRow[] = [];
        for (const [channel, tss] of byChannel) {
          const { rows: locked } = await tx.query<StaleRow>(
            `SELECT channel_id, ts::text, user_id, thread_ts::text FROM search_messages
              WHERE channel_id = $1 AND ts = ANY($2::bigint[]) AND key_version IS DISTINCT FROM $3
              ORDER BY ts FOR UPDATE`,
            [channel, tss, key?.version ?? null],
          );
          rows.push(...locked);
        }
        // Re-keyed meanwhile by the projector (it writes under the current key): the next pass looks again.
        if (!rows.length) return found.length;
        const { rows: bodies } = await tx.query<MessageRow>(
          `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE (channel_id, ts) IN (SELECT * FROM unnest($1::text[], $2::bigint[]))`,
          [rows.map((r) => r.channel_id), rows.map((r) => r.ts)],
        );
        await this.cipher.openRows(bodies);
        const byKey = new Map(bodies.map((b) => [`${b.channel_id}:${b.ts}`, b]));
        const rewritten = [];
        const gone = [];
        for (const row of rows) {
          const body = byKey.get(`${row.channel_id}:${row.ts}`);
          if (!body || body.deleted || body.ekm_denied) gone.push(row);
          else
            rewritten.push(
              indexRow(key, workspace, {
                channel: row.channel_id,
                ts: row.ts,
                user: row.user_id,
                threadTs: row.thread_ts,
                text: searchableText(toSlackMessage(body)),
              }),
            );
        }
        await upsertRows(tx, rewritten, false);
        if (gone.length) {
          await tx.query(
            `DELETE FROM search_messages s USING unnest($1::text[], $2::bigint[]) AS v(channel_id, ts)
              WHERE s.channel_id = v.channel_id AND s.ts = v.ts`,
            [gone.map((r) => r.channel_id), gone.map((r) => r.ts)],
          );
        }
        return rows.length;
      });
      if (!n) break;
      total += n;
      await onBatch?.(n);
    }
    if (key) await this.keys.retire(workspace, key.version);
    return total;
  }
}
