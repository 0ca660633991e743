import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../db/database.module.js';
import type { Queryable } from '../db/database.js';

export interface EkmWorkspace {
  workspace_id: string;
  provider: 'local' | 'aws-kms';
  key_ref: string;
  key_version: number;
  enabled_at: Date;
}

export interface DataKeyRow {
  id: string;
  workspace_id: string;
  channel_id: string;
  key_version: number;
  key_ref: string;
  wrapped: Buffer;
}

export interface Revocation {
  id: string;
  workspace_id: string;
  channel_id: string | null;
  from_ts: string | null;
  to_ts: string | null;
  created_by: string;
  created_at: Date;
  restored_at: Date | null;
}

export interface EkmRun {
  id: string;
  workspace_id: string;
  kind: 'encrypt' | 'rewrap' | 'announce';
  detail: Record<string, unknown>;
  status: 'queued' | 'running' | 'done' | 'failed';
  done: string;
  error: string | null;
  created_at: Date;
  finished_at: Date | null;
}

@Injectable()
export class EkmRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  async settings(workspace: string): Promise<EkmWorkspace | undefined> {
    const { rows } = await this.pool.query<EkmWorkspace>('SELECT * FROM ekm_workspaces WHERE workspace_id = $1', [workspace]);
    return rows[0];
  }

  /** False when EKM was already on. */
  async enable(db: Queryable, workspace: string, provider: string, keyRef: string): Promise<boolean> {
    const { rowCount } = await db.query(
      'INSERT INTO ekm_workspaces (workspace_id, provider, key_ref) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [workspace, provider, keyRef],
    );
    return rowCount === 1;
  }

  async rotate(db: Queryable, workspace: string, keyRef: (version: number) => string): Promise<EkmWorkspace> {
    const { rows } = await db.query<EkmWorkspace>(
      `UPDATE ekm_workspaces SET key_version = key_version + 1 WHERE workspace_id = $1 RETURNING *`,
      [workspace],
    );
    const ref = keyRef(rows[0].key_version);
    await db.query('UPDATE ekm_workspaces SET key_ref = $2 WHERE workspace_id = $1', [workspace, ref]);
    return { ...rows[0], key_ref: ref };
  }

  async dataKey(id: string): Promise<DataKeyRow | undefined> {
    const { rows } = await this.pool.query<DataKeyRow>('SELECT * FROM data_keys WHERE id = $1', [id]);
    return rows[0];
  }

  /** The day's key for a channel; `created` is false when another writer made it first. */
  async insertDataKey(key: Omit<DataKeyRow, 'id'> & { window_start: string }): Promise<DataKeyRow | undefined> {
    const { rows } = await this.pool.query<DataKeyRow>(
      `INSERT INTO data_keys (workspace_id, channel_id, window_start, key_version, key_ref, wrapped)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING *`,
      [key.workspace_id, key.channel_id, key.window_start, key.key_version, key.key_ref, key.wrapped],
    );
    return rows[0];
  }

  async findDataKey(workspace: string, channel: string, windowStart: string): Promise<DataKeyRow | undefined> {
    const { rows } = await this.pool.query<DataKeyRow>(
      'SELECT * FROM data_keys WHERE workspace_id = $1 AND channel_id = $2 AND window_start = $3',
      [workspace, channel, windowStart],
    );
    return rows[0];
  }

  async staleDataKeys(workspace: string, version: number, limit: number): Promise<DataKeyRow[]> {
    const { rows } = await this.pool.query<DataKeyRow>(
      'SELECT * FROM data_keys WHERE workspace_id = $1 AND key_version < $2 ORDER BY id LIMIT $3',
      [workspace, version, limit],
    );
    return rows;
  }

  async rewrap(id: string, version: number, keyRef: string, wrapped: Buffer): Promise<void> {
    await this.pool.query('UPDATE data_keys SET key_version = $2, key_ref = $3, wrapped = $4 WHERE id = $1', [id, version, keyRef, wrapped]);
  }

  async activeRevocations(workspaces: string[]): Promise<Revocation[]> {
    const { rows } = await this.pool.query<Revocation>(
      'SELECT * FROM ekm_revocations WHERE workspace_id = ANY($1) AND restored_at IS NULL',
      [workspaces],
    );
    return rows;
  }

  async revocations(workspace: string): Promise<Revocation[]> {
    const { rows } = await this.pool.query<Revocation>('SELECT * FROM ekm_revocations WHERE workspace_id = $1 ORDER BY id', [workspace]);
    return rows;
  }

  async revoke(db: Queryable, r: { workspace: string; channel: string | null; from: bigint | null; to: bigint | null; actor: string }): Promise<Revocation> {
    const { rows } = await db.query<Revocation>(
      `INSERT INTO ekm_revocations (workspace_id, channel_id, from_ts, to_ts, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
      [r.workspace, r.channel, r.from?.toString() ?? null, r.to?.toString() ?? null, r.actor],
    );
    return rows[0];
  }

  async restore(db: Queryable, workspace: string, id: string): Promise<Revocation | undefined> {
    const { rows } = await db.query<Revocation>(
      'UPDATE ekm_revocations SET restored_at = now() WHERE workspace_id = $1 AND id = $2 AND restored_at IS NULL RETURNING *',
      [workspace, id],
    );
    return rows[0];
  }

  async audit(db: Queryable, workspace: string, action: string, actor: string, detail: object = {}): Promise<void> {
    await db.query('INSERT INTO ekm_audit (workspace_id, action, actor, detail) VALUES ($1, $2, $3, $4)', [workspace, action, actor, detail]);
  }

  async auditLog(workspace: string, afterId: string, limit: number) {
    const { rows } = await this.pool.query(
      'SELECT id, action, actor, detail, at FROM ekm_audit WHERE workspace_id = $1 AND id > $2 ORDER BY id LIMIT $3',
      [workspace, afterId, limit],
    );
    return rows;
  }

  async createRun(db: Queryable, workspace: string, kind: EkmRun['kind'], detail: object = {}): Promise<EkmRun> {
    const { rows } = await db.query<EkmRun>('INSERT INTO ekm_runs (workspace_id, kind, detail) VALUES ($1, $2, $3) RETURNING *', [workspace, kind, detail]);
    return rows[0];
  }

  async findRun(id: string): Promise<EkmRun | undefined> {
    const { rows } = await this.pool.query<EkmRun>('SELECT * FROM ekm_runs WHERE id = $1', [id]);
    return rows[0];
  }

  async latestRuns(workspace: string, limit = 10): Promise<EkmRun[]> {
    const { rows } = await this.pool.query<EkmRun>('SELECT * FROM ekm_runs WHERE workspace_id = $1 ORDER BY id DESC LIMIT $2', [workspace, limit]);
    return rows;
  }

  async markRun(id: string, status: EkmRun['status'], error: string | null = null): Promise<void> {
    await this.pool.query(
      `UPDATE ekm_runs SET status = $2, error = $3, finished_at = CASE WHEN $2 IN ('done', 'failed') THEN now() END WHERE id = $1`,
      [id, status, error],
    );
  }

  async addProgress(db: Queryable, id: string, n: number): Promise<void> {
    await db.query('UPDATE ekm_runs SET done = done + $2 WHERE id = $1', [id, n]);
  }

  /** Plaintext bodies of the workspace still to seal, locked for this batch. */
  async plaintextBodies(db: Queryable, workspace: string, limit: number) {
    const { rows } = await db.query<{ channel_id: string; seq: string; user_id: string; text: string }>(
      `SELECT m.channel_id, m.seq, m.user_id, m.text FROM messages m JOIN channels c ON c.id = m.channel_id
        WHERE c.workspace_id = $1 AND m.text IS NOT NULL AND m.body_enc IS NULL
        ORDER BY m.channel_id, m.seq LIMIT $2 FOR UPDATE OF m SKIP LOCKED`,
      [workspace, limit],
    );
    return rows;
  }

  /** Replaces plaintext bodies with sealed ones, one statement per batch. */
  async storeSealed(db: Queryable, bodies: Array<{ channel: string; seq: string; bodyEnc: Buffer; dataKeyId: string }>): Promise<void> {
    // Link previews quote the page a message linked to; they go with the plaintext.
    await db.query(
      `UPDATE messages m SET text = NULL, attachments = NULL, body_enc = u.body_enc, data_key_id = u.data_key_id
         FROM unnest($1::text[], $2::bigint[], $3::bytea[], $4::bigint[]) AS u(channel_id, seq, body_enc, data_key_id)
        WHERE m.channel_id = u.channel_id AND m.seq = u.seq`,
      [bodies.map((b) => b.channel), bodies.map((b) => b.seq), bodies.map((b) => b.bodyEnc), bodies.map((b) => b.dataKeyId)],
    );
  }

  /** Live messages a revocation covers, after (channel, seq), for announcing the change to clients. */
  async coveredMessages(workspace: string, r: Pick<Revocation, 'channel_id' | 'from_ts' | 'to_ts'>, after: { channel: string; seq: string }, limit: number) {
    const { rows } = await this.pool.query<{ channel_id: string; seq: string; ts: string }>(
      `SELECT m.channel_id, m.seq, m.ts FROM messages m JOIN channels c ON c.id = m.channel_id
        WHERE c.workspace_id = $1 AND NOT m.deleted AND m.body_enc IS NOT NULL
          AND ($2::text IS NULL OR m.channel_id = $2)
          AND ($3::bigint IS NULL OR m.ts >= $3) AND ($4::bigint IS NULL OR m.ts <= $4)
          AND (m.channel_id, m.seq) > ($5, $6::bigint)
        ORDER BY m.channel_id, m.seq LIMIT $7`,
      [workspace, r.channel_id, r.from_ts, r.to_ts, after.channel, after.seq, limit],
    );
    return rows;
  }
}
