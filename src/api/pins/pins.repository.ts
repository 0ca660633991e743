import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../../db/database.module.js';
import type { Queryable } from '../../db/database.js';

/** Pinned messages of a channel. Only live messages count: a deleted or expired message is not pinned. */
@Injectable()
export class PinsRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  /** False when the message is pinned already. */
  async add(db: Queryable, channel: string, ts: string, user: string, seq: number): Promise<boolean> {
    const { rowCount } = await db.query(
      'INSERT INTO pins (channel_id, message_ts, pinned_by, seq) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
      [channel, ts, user, seq],
    );
    return rowCount === 1;
  }

  async isPinned(db: Queryable, channel: string, ts: string): Promise<boolean> {
    const { rowCount } = await db.query('SELECT 1 FROM pins WHERE channel_id = $1 AND message_ts = $2', [channel, ts]);
    return rowCount === 1;
  }

  async remove(db: Queryable, channel: string, ts: string): Promise<boolean> {
    const { rowCount } = await db.query('DELETE FROM pins WHERE channel_id = $1 AND message_ts = $2', [channel, ts]);
    return rowCount === 1;
  }

  /** The channel's pins of live messages, newest pin first. */
  async list(channel: string): Promise<Array<{ message_ts: string; pinned_by: string; created_at: Date }>> {
    const { rows } = await this.pool.query<{ message_ts: string; pinned_by: string; created_at: Date }>(
      `SELECT p.message_ts, p.pinned_by, p.created_at FROM pins p
         JOIN messages m ON m.channel_id = p.channel_id AND m.ts = p.message_ts AND NOT m.deleted
        WHERE p.channel_id = $1 ORDER BY p.seq DESC`,
      [channel],
    );
    return rows;
  }

  async count(channel: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pins p
         JOIN messages m ON m.channel_id = p.channel_id AND m.ts = p.message_ts AND NOT m.deleted
        WHERE p.channel_id = $1`,
      [channel],
    );
    return rows[0].n;
  }

  /** Which of the given messages (ts in microseconds) are pinned. */
  async pinnedAmong(channel: string, ts: string[]): Promise<Set<string>> {
    if (!ts.length) return new Set();
    const { rows } = await this.pool.query<{ message_ts: string }>(
      'SELECT message_ts FROM pins WHERE channel_id = $1 AND message_ts = ANY($2::bigint[])',
      [channel, ts],
    );
    return new Set(rows.map((r) => r.message_ts));
  }
}
