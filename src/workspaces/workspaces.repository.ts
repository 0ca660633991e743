import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../db/database.module.js';

import type { Role, UserRow } from '../domain/user.js';
import type { CredentialKind } from './tokens.js';

export type { Role, UserRow };

/** A token row joined with its (not deleted) user: what authentication reads. */
export type TokenRow = UserRow & { secret_hash: Buffer; kind: CredentialKind; expires_at: Date | null };

/** A token or web session as the admin API lists it (never its secret). */
export interface CredentialRow {
  id: string;
  kind: CredentialKind;
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
}

export interface WorkspaceRow {
  id: string;
  name: string;
  created_at: Date;
}

export const USER_COLUMNS =
  'id, workspace_id, name, real_name, role, deleted, created_at, email, display_name, title, status_text, status_emoji, status_expiration, avatar_url, profile_updated_at, bot_id';

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

  async findByToken(tokenId: string): Promise<TokenRow | undefined> {
    const { rows } = await this.pool.query<TokenRow>({
      name: 'find-token', // every request runs it: prepared once per connection
      text: `SELECT u.id, u.workspace_id, u.name, u.real_name, u.role, u.deleted, u.created_at, u.bot_id, t.secret_hash, t.kind, t.expires_at
               FROM tokens t JOIN users u ON u.id = t.user_id
              WHERE t.id = $1 AND t.revoked_at IS NULL AND NOT u.deleted AND (t.expires_at IS NULL OR t.expires_at > now())`,
      values: [tokenId],
    });
    return rows[0];
  }

  /** A new credential for an existing, not deleted user of the workspace; false when there is none. */
  async insertToken(
    workspace: string,
    user: string,
    token: { id: string; secretHash: Buffer; kind: CredentialKind; ttlMs?: number },
  ): Promise<CredentialRow | undefined> {
    const { rows } = await this.pool.query<CredentialRow>(
      `INSERT INTO tokens (id, user_id, secret_hash, kind, expires_at)
       SELECT $1, u.id, $2, $3, now() + $4 * interval '1 millisecond'
         FROM users u WHERE u.id = $5 AND u.workspace_id = $6 AND NOT u.deleted
       RETURNING id, kind, created_at, expires_at, revoked_at`,
      [token.id, token.secretHash, token.kind, token.ttlMs ?? null, user, workspace],
    );
    return rows[0];
  }

  async listCredentials(user: string): Promise<CredentialRow[]> {
    const { rows } = await this.pool.query<CredentialRow>(
      'SELECT id, kind, created_at, expires_at, revoked_at FROM tokens WHERE user_id = $1 ORDER BY created_at, id',
      [user],
    );
    return rows;
  }

  /** Revokes one credential of the user (idempotent); undefined when the user has no such credential. */
  async revokeCredential(user: string, id: string): Promise<CredentialRow | undefined> {
    // least(), not coalesce(): the first revocation stays; Citus refuses a stable function inside COALESCE.
    const { rows } = await this.pool.query<CredentialRow>(
      `UPDATE tokens SET revoked_at = least(revoked_at, now()) WHERE id = $1 AND user_id = $2
       RETURNING id, kind, created_at, expires_at, revoked_at`,
      [id, user],
    );
    return rows[0];
  }

  /**
   * Deactivates the user in one statement: deleted = true, every live credential revoked, every
   * unused sign-in link spent. Returns the user and the ids of the credentials it revoked.
   */
  async deactivateUser(workspace: string, user: string): Promise<{ user: UserRow; revoked: string[] } | undefined> {
    const { rows } = await this.pool.query<UserRow & { revoked: string[] }>(
      `WITH u AS (
         UPDATE users SET deleted = true WHERE id = $1 AND workspace_id = $2 RETURNING ${USER_COLUMNS}
       ), t AS (
         UPDATE tokens SET revoked_at = now() WHERE user_id IN (SELECT id FROM u) AND revoked_at IS NULL RETURNING id
       ), c AS (
         UPDATE signin_codes SET used_at = now() WHERE user_id IN (SELECT id FROM u) AND used_at IS NULL
       )
       SELECT u.*, coalesce((SELECT array_agg(id) FROM t), '{}') AS revoked FROM u`,
      [user, workspace],
    );
    if (!rows[0]) return undefined;
    const { revoked, ...row } = rows[0];
    return { user: row, revoked };
  }

  /** Lets a deactivated user back in; their old credentials stay revoked (issue new ones). */
  async reactivateUser(workspace: string, user: string): Promise<UserRow | undefined> {
    const { rows } = await this.pool.query<UserRow>(
      `UPDATE users SET deleted = false WHERE id = $1 AND workspace_id = $2 RETURNING ${USER_COLUMNS}`,
      [user, workspace],
    );
    return rows[0];
  }

  /** Stores a sign-in code for a not deleted user of the workspace; false when there is none. */
  async insertSigninCode(workspace: string, user: string, codeHash: Buffer, ttlMs: number): Promise<Date | undefined> {
    const { rows } = await this.pool.query<{ expires_at: Date }>(
      `INSERT INTO signin_codes (code_hash, user_id, expires_at)
       SELECT $1, u.id, now() + $2 * interval '1 millisecond' FROM users u WHERE u.id = $3 AND u.workspace_id = $4 AND NOT u.deleted
       RETURNING expires_at`,
      [codeHash, ttlMs, user, workspace],
    );
    return rows[0]?.expires_at;
  }

  /**
   * Spends a sign-in code and opens a web session for its user, in one statement: a code works once,
   * before it expires, for a user who is not deleted. Undefined for any other code.
   */
  async redeemSigninCode(
    codeHash: Buffer,
    session: { id: string; secretHash: Buffer; ttlMs: number },
  ): Promise<{ user: UserRow; workspaceName: string; expiresAt: Date } | undefined> {
    const { rows } = await this.pool.query<UserRow & { workspace_name: string; session_expires_at: Date }>(
      `WITH c AS (
         UPDATE signin_codes SET used_at = now() WHERE code_hash = $1 AND used_at IS NULL AND expires_at > now() RETURNING user_id
       ), u AS (
         SELECT ${USER_COLUMNS} FROM users WHERE id IN (SELECT user_id FROM c) AND NOT deleted
       ), t AS (
         INSERT INTO tokens (id, user_id, secret_hash, kind, expires_at)
         SELECT $2, u.id, $3, 'session', now() + $4 * interval '1 millisecond' FROM u RETURNING expires_at
       )
       SELECT u.*, w.name AS workspace_name, t.expires_at AS session_expires_at FROM u, t, workspaces w WHERE w.id = u.workspace_id`,
      [codeHash, session.id, session.secretHash, session.ttlMs],
    );
    if (!rows[0]) return undefined;
    const { workspace_name, session_expires_at, ...user } = rows[0];
    return { user, workspaceName: workspace_name, expiresAt: session_expires_at };
  }
}
