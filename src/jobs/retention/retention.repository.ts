import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../../db/database.module.js';
import type { Queryable } from '../../db/database.js';

export interface ExpiringChannel {
  id: string;
  keep_days: number;
}

@Injectable()
export class RetentionRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  /** `channel` null is the workspace-wide setting; keepDays null keeps forever. */
  async setPolicy(workspace: string, channel: string | null, keepDays: number | null): Promise<void> {
    await this.pool.query(
      // updated_at from excluded: Citus allows no non-immutable function in DO UPDATE SET.
      `INSERT INTO retention_policies (workspace_id, channel_id, keep_days, updated_at) VALUES ($1, $2, $3, now())
       ON CONFLICT ON CONSTRAINT retention_policies_scope DO UPDATE SET keep_days = excluded.keep_days, updated_at = excluded.updated_at`,
      [workspace, channel, keepDays],
    );
  }

  async clearPolicy(workspace: string, channel: string): Promise<void> {
    await this.pool.query('DELETE FROM retention_policies WHERE workspace_id = $1 AND channel_id = $2', [workspace, channel]);
  }

  /** The workspace-wide row (channel_id null) first, then the channel overrides. */
  async policies(workspace: string): Promise<Array<{ channel_id: string | null; keep_days: number | null }>> {
    const { rows } = await this.pool.query<{ channel_id: string | null; keep_days: number | null }>(
      'SELECT channel_id, keep_days FROM retention_policies WHERE workspace_id = $1 ORDER BY channel_id NULLS FIRST',
      [workspace],
    );
    return rows;
  }

  /** Channels whose effective policy (the channel's own row, else the workspace's) expires messages. */
  async expiringChannels(workspace: string | null): Promise<ExpiringChannel[]> {
    const { rows } = await this.pool.query<ExpiringChannel>(
      `SELECT c.id, CASE WHEN cp.workspace_id IS NOT NULL THEN cp.keep_days ELSE wp.keep_days END AS keep_days
         FROM channels c
         LEFT JOIN retention_policies cp ON cp.workspace_id = c.workspace_id AND cp.channel_id = c.id
         LEFT JOIN retention_policies wp ON wp.workspace_id = c.workspace_id AND wp.channel_id IS NULL
        WHERE ($1::text IS NULL OR c.workspace_id = $1)
          AND CASE WHEN cp.workspace_id IS NOT NULL THEN cp.keep_days ELSE wp.keep_days END IS NOT NULL
        ORDER BY c.id`,
      [workspace],
    );
    return rows;
  }

  /** The oldest bodies with ts < before, within the channel's append transaction. */
  async expired(db: Queryable, channel: string, before: bigint, limit: number) {
    const { rows } = await db.query<{ seq: string; ts: string; deleted: boolean; thread_ts: string | null }>(
      'SELECT seq, ts, deleted, thread_ts FROM messages WHERE channel_id = $1 AND ts < $2 ORDER BY ts LIMIT $3',
      [channel, before.toString(), limit],
    );
    return rows;
  }

  /** Physically deletes bodies (with their unfurls) and keeps surviving parents' thread summaries right. */
  async deleteBodies(db: Queryable, channel: string, seqs: string[], parentTs: string[]): Promise<void> {
    const { rows } = await db.query<{ ts: string }>('DELETE FROM messages WHERE channel_id = $1 AND seq = ANY($2::bigint[]) RETURNING ts', [
      channel,
      seqs,
    ]);
    // An expired message takes its reactions and pin with it.
    const gone = rows.map((r) => r.ts);
    await db.query('DELETE FROM reactions WHERE channel_id = $1 AND message_ts = ANY($2::bigint[])', [channel, gone]);
    await db.query('DELETE FROM pins WHERE channel_id = $1 AND message_ts = ANY($2::bigint[])', [channel, gone]);
    if (!parentTs.length) return;
    await db.query(
      `UPDATE messages p
          SET reply_count = (SELECT count(*) FROM messages r WHERE r.channel_id = p.channel_id AND r.thread_ts = p.ts AND NOT r.deleted),
              latest_reply = (SELECT max(r.ts) FROM messages r WHERE r.channel_id = p.channel_id AND r.thread_ts = p.ts AND NOT r.deleted)
        WHERE p.channel_id = $1 AND p.ts = ANY($2::bigint[])`,
      [channel, parentTs],
    );
  }
}
