import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../db/database.module.js';

import type { Role, UserRow } from '../domain/user.js';

export type { Role, UserRow };

export interface WorkspaceRow {
  id: string;
  name: string;
  created_at: Date;
}

export const USER_COLUMNS =
  'id, workspace_id, name, real_name, role, deleted, created_at, email, display_name, title, status_text, status_emoji, status_expiration, avatar_url, profile_updated_at';

@Injectable()
export class WorkspacesRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  async insertWorkspace(id: string, name: string): Promise<WorkspaceRow> {
    const { rows } = await this.pool.query<WorkspaceRow>(
      'INSERT INTO workspaces (id, name) VALUES ($1, $2) RETURNING id, name, created_at',
      [id, name],
    );
    return rows[0];
  }

  async findWorkspace(id: string): Promise<WorkspaceRow | undefined> {
    const { rows } = await this.pool.query<WorkspaceRow>('SELECT id, name, created_at FROM workspaces WHERE id = $1', [id]);
    return rows[0];
  }

  /** Inserts the user and its first token together; false when the name is taken in the workspace. */
  async insertUserWithToken(
    user: Pick<UserRow, 'id' | 'workspace_id' | 'name' | 'real_name' | 'role' | 'email'>,
    token: { id: string; secretHash: Buffer },
  ): Promise<UserRow | undefined> {
    // Any conflict (name or email taken) inserts nothing; the caller checked the email first.
    const { rows } = await this.pool.query<UserRow>(
      `WITH u AS (
         INSERT INTO users (id, workspace_id, name, real_name, role, email) VALUES ($1, $2, $3, $4, $5, $8)
         ON CONFLICT DO NOTHING RETURNING ${USER_COLUMNS}
       ), t AS (
         INSERT INTO tokens (id, user_id, secret_hash) SELECT $6, u.id, $7 FROM u
       )
       SELECT * FROM u`,
      [user.id, user.workspace_id, user.name, user.real_name, user.role, token.id, token.secretHash, user.email ?? null],
    );
    return rows[0];
  }

  async emailTaken(workspace: string, email: string): Promise<boolean> {
    const { rows } = await this.pool.query('SELECT 1 FROM users WHERE workspace_id = $1 AND lower(email) = lower($2)', [workspace, email]);
    return rows.length > 0;
  }

  async findUser(workspace: string, id: string): Promise<UserRow | undefined> {
    const { rows } = await this.pool.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1 AND workspace_id = $2`, [
      id,
      workspace,
    ]);
    return rows[0];
  }

  /** Users of a workspace ordered by id, after `afterId` (keyset pagination). */
  async listUsers(workspace: string, afterId: string, limit: number): Promise<UserRow[]> {
    const { rows } = await this.pool.query<UserRow>(
      `SELECT ${USER_COLUMNS} FROM users WHERE workspace_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
      [workspace, afterId, limit],
    );
    return rows;
  }

  async findByToken(tokenId: string): Promise<(UserRow & { secret_hash: Buffer }) | undefined> {
    const { rows } = await this.pool.query<UserRow & { secret_hash: Buffer }>({
      name: 'find-token', // every request runs it: prepared once per connection
      text: `SELECT u.id, u.workspace_id, u.name, u.real_name, u.role, u.deleted, u.created_at, t.secret_hash
               FROM tokens t JOIN users u ON u.id = t.user_id
              WHERE t.id = $1 AND t.revoked_at IS NULL AND NOT u.deleted`,
      values: [tokenId],
    });
    return rows[0];
  }
}
