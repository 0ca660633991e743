import { Injectable } from '@nestjs/common';
import type { Queryable } from '../../db/database.js';

const UNDISPATCHED_EXPIRATIONS = 'SELECT user_id, expiration FROM status_expirations WHERE dispatched_at IS NULL';
const UNDISPATCHED_SCHEDULED = 'SELECT id, post_at FROM scheduled_messages WHERE dispatched_at IS NULL';
/** $1: due before this (unix seconds). */
const OVERDUE_SCHEDULED = "SELECT id FROM scheduled_messages WHERE state = 'pending' AND post_at < $1 AND dispatched_at IS NOT NULL";

/**
 * The outboxes of jobs due at a time (status expirations, scheduled messages): rows written in the
 * transaction of the request that asked for them, not yet handed to BullMQ. Locked until the
 * dispatcher's transaction, which marks them dispatched, ends.
 */
@Injectable()
export class TimedOutboxRepository {
  async undispatchedExpirations(db: Queryable, limit: number): Promise<Array<{ user_id: string; expiration: number }>> {
    const { rows } = await db.query<{ user_id: string; expiration: string }>(
      `${UNDISPATCHED_EXPIRATIONS} ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [limit],
    );
    return rows.map((r) => ({ user_id: r.user_id, expiration: Number(r.expiration) }));
  }

  async markExpirationsDispatched(db: Queryable, rows: Array<{ user_id: string; expiration: number }>): Promise<void> {
    await db.query(
      `UPDATE status_expirations s SET dispatched_at = now() FROM unnest($1::text[], $2::bigint[]) AS k(user_id, expiration)
        WHERE s.user_id = k.user_id AND s.expiration = k.expiration`,
      [rows.map((r) => r.user_id), rows.map((r) => r.expiration)],
    );
  }

  async undispatchedScheduled(db: Queryable, limit: number): Promise<Array<{ id: string; post_at: number }>> {
    const { rows } = await db.query<{ id: string; post_at: string }>(
      `${UNDISPATCHED_SCHEDULED} ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [limit],
    );
    return rows.map((r) => ({ id: r.id, post_at: Number(r.post_at) }));
  }

  async markScheduledDispatched(db: Queryable, ids: string[]): Promise<void> {
    await db.query('UPDATE scheduled_messages SET dispatched_at = now() WHERE id = ANY($1)', [ids]);
  }

  /** Pending messages past due by `graceSeconds`: re-queued under the same job id in case Redis lost theirs. */
  async overdueScheduled(db: Queryable, nowSeconds: number, graceSeconds: number, limit: number): Promise<string[]> {
    const { rows } = await db.query<{ id: string }>(`${OVERDUE_SCHEDULED} ORDER BY post_at LIMIT $2`, [nowSeconds - graceSeconds, limit]);
    return rows.map((r) => r.id);
  }

  /**
   * Whether the dispatcher's transaction (undispatched expirations and scheduled messages, overdue
   * ones) would find anything, read without a transaction or a lock: most of its passes find nothing.
   */
  async hasWork(db: Queryable, nowSeconds: number, graceSeconds: number): Promise<boolean> {
    const { rows } = await db.query<{ work: boolean }>(
      `SELECT EXISTS (${UNDISPATCHED_EXPIRATIONS}) OR EXISTS (${UNDISPATCHED_SCHEDULED}) OR EXISTS (${OVERDUE_SCHEDULED}) AS work`,
      [nowSeconds - graceSeconds],
    );
    return rows[0].work;
  }
}
