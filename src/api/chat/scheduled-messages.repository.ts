import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../../db/database.module.js';
import type { Queryable } from '../../db/database.js';

export interface ScheduledRow {
  id: string;
  workspace_id: string;
  channel_id: string;
  user_id: string;
  text: string;
  thread_ts: string | null;
  post_at: string;
  state: 'pending' | 'posted' | 'failed' | 'deleted';
  error: string | null;
  posted_ts: string | null;
  created_at: Date;
}

@Injectable()
export class ScheduledMessagesRepository {
  constructor(@Inject(PG_POOL) readonly pool: pg.Pool) {}

  async insert(row: Pick<ScheduledRow, 'id' | 'workspace_id' | 'channel_id' | 'user_id' | 'text' | 'thread_ts' | 'post_at'>) {
    const { rows } = await this.pool.query<ScheduledRow>(
      `INSERT INTO scheduled_messages (id, workspace_id, channel_id, user_id, text, thread_ts, post_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
      [row.id, row.workspace_id, row.channel_id, row.user_id, row.text, row.thread_ts, row.post_at],
    );
    return rows[0];
  }

  /** The caller's pending and failed messages, by post_at then id, after the cursor. */
  async list(user: string, channel: string | undefined, after: { postAt: string; id: string } | undefined, limit: number) {
    const { rows } = await this.pool.query<ScheduledRow>(
      `SELECT * FROM scheduled_messages
        WHERE user_id = $1 AND state IN ('pending', 'failed') AND ($2::text IS NULL OR channel_id = $2)
          AND ($3::bigint IS NULL OR (post_at, id) > ($3, $4))
        ORDER BY post_at, id LIMIT $5`,
      [user, channel ?? null, after?.postAt ?? null, after?.id ?? '', limit],
    );
    return rows;
  }

  /** Deletes the caller's message unless it was posted (or deleted) already; false if there was none such. */
  async delete(user: string, channel: string, id: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE scheduled_messages SET state = 'deleted' WHERE id = $1 AND user_id = $2 AND channel_id = $3 AND state IN ('pending', 'failed')`,
      [id, user, channel],
    );
    return rowCount === 1;
  }

  /** Locks the row for the worker's post (a concurrent delete waits for the outcome). */
  async lock(db: Queryable, id: string): Promise<ScheduledRow | undefined> {
    const { rows } = await db.query<ScheduledRow>('SELECT * FROM scheduled_messages WHERE id = $1 FOR UPDATE', [id]);
    return rows[0];
  }

  async finish(db: Queryable, id: string, outcome: { postedTs: string } | { error: string }): Promise<void> {
    if ('postedTs' in outcome) {
      await db.query(`UPDATE scheduled_messages SET state = 'posted', posted_ts = $2, error = NULL WHERE id = $1`, [id, outcome.postedTs]);
    } else {
      await db.query(`UPDATE scheduled_messages SET state = 'failed', error = $2 WHERE id = $1`, [id, outcome.error]);
    }
  }
}
