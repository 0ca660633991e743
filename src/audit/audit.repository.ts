import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../db/database.module.js';
import { inTransaction, type Queryable } from '../db/database.js';

/** One admin action as the audit trail keeps it. `details` never holds a secret, a token or message text. */
export interface AuditEntry {
  actor: string; // 'operator', 'system' or a user id
  actorWorkspace?: string | null;
  action: string;
  target?: { kind: string; id: string } | null;
  workspace?: string | null;
  sourceAddress?: string | null;
  outcome: 'ok' | 'refused';
  error?: string | null;
  details?: Record<string, unknown>;
}

export interface AuditRow {
  id: string;
  at: Date;
  actor: string;
  actor_workspace: string | null;
  action: string;
  target_kind: string | null;
  target_id: string | null;
  workspace_id: string | null;
  source_address: string | null;
  outcome: 'ok' | 'refused';
  error: string | null;
  details: Record<string, unknown>;
}

export interface AuditFilter {
  /** undefined: every workspace (operator); a value: that workspace only. */
  workspace?: string;
  action?: string;
  actor?: string;
  since?: Date;
  until?: Date;
  /** Rows with a smaller id than this (newest first). */
  before?: string;
  limit: number;
}

/** The one audit trail (table audit_log, append-only by trigger; only `sweep` deletes). */
@Injectable()
export class AuditRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  async record(e: AuditEntry, db: Queryable = this.pool): Promise<void> {
    await db.query(
      `INSERT INTO audit_log (actor, actor_workspace, action, target_kind, target_id, workspace_id, source_address, outcome, error, details)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        e.actor,
        e.actorWorkspace ?? null,
        e.action,
        e.target?.kind ?? null,
        e.target?.id ?? null,
        e.workspace ?? null,
        e.sourceAddress ?? null,
        e.outcome,
        e.error ?? null,
        e.details ?? {},
      ],
    );
  }

  /** Newest first. */
  async list(f: AuditFilter): Promise<AuditRow[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      args.push(value);
      where.push(sql.replace('?', `$${args.length}`));
    };
    if (f.workspace !== undefined) add('workspace_id = ?', f.workspace);
    if (f.action) add('action = ?', f.action);
    if (f.actor) add('actor = ?', f.actor);
    if (f.since) add('at >= ?', f.since);
    if (f.until) add('at < ?', f.until);
    if (f.before) add('id < ?', f.before);
    args.push(f.limit);
    const { rows } = await this.pool.query<AuditRow>(
      `SELECT id::text, at, actor, actor_workspace, action, target_kind, target_id, workspace_id, source_address, outcome, error, details
       FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY audit_log.id DESC LIMIT $${args.length}`,
      args,
    );
    return rows;
  }

  /**
   * Deletes rows older than `keepDays`: the workspace's and the instance-wide ones (workspace null:
   * every row). The append-only trigger admits a DELETE only inside this transaction's setting.
   */
  async sweep(workspace: string | null, keepDays: number, now: Date = new Date()): Promise<number> {
    return inTransaction(this.pool, async (tx) => {
      await tx.query(`SELECT set_config('atomcast.audit_sweep', 'on', true)`);
      const { rowCount } = await tx.query(
        `DELETE FROM audit_log WHERE ($1::text IS NULL OR workspace_id = $1 OR workspace_id IS NULL) AND at < $2::timestamptz - make_interval(days => $3)`,
        [workspace, now, keepDays],
      );
      return rowCount ?? 0;
    });
  }
}
