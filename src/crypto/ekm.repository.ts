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

@Injectable()
export class EkmRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  async settings(workspace: string): Promise<EkmWorkspace | undefined> {
    const { rows } = await this.pool.query<EkmWorkspace>('SELECT * FROM ekm_workspaces WHERE workspace_id = $1', [workspace]);
    return rows[0];
  }

  /**
   * False when EKM was already on. Takes every channel lock of the workspace first (the lock each
   * body writer holds): a write in flight commits before EKM is on, so the encryption run sees it,
   * and a later one finds EKM on (migrations/functions/05_messages_no_plaintext_in_ekm.sql).
   */
  async enable(db: Queryable, workspace: string, provider: string, keyRef: string): Promise<boolean> {
    // One channel at a time, in id order, as a post locks it (append lock, then head row): a locking
    // read over many channels is a multi-shard FOR UPDATE, which Citus refuses. A rare admin action.
    const { rows: channels } = await db.query<{ id: string }>('SELECT id FROM channels WHERE workspace_id = $1 ORDER BY id', [workspace]);
    for (const { id } of channels) {
      await db.query('SELECT pg_advisory_xact_lock(hashtext(id)) FROM channels WHERE id = $1', [id]);
      await db.query('SELECT 1 FROM channels WHERE id = $1 FOR NO KEY UPDATE', [id]);
    }
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

  async revoke(
    db: Queryable,
    r: { workspace: string; channel: string | null; from: bigint | null; to: bigint | null; actor: string },
  ): Promise<Revocation> {
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
}
