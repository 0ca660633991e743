import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../db/database.module.js';
import type { Queryable } from '../db/database.js';
import type { UserRow } from '../domain/user.js';
import { USER_COLUMNS } from './workspaces.repository.js';

/** The profile fields users.profile.set may change (undefined: unchanged). */
export interface ProfileChange {
  display_name?: string;
  real_name?: string;
  title?: string;
  status_text?: string;
  status_emoji?: string;
  status_expiration?: number;
  avatar_url?: string;
}

const CHANGEABLE = ['display_name', 'real_name', 'title', 'status_text', 'status_emoji', 'status_expiration', 'avatar_url'] as const;

/** Profiles, manual presence and status expirations: the users table's profile columns and the expiry outbox. */
@Injectable()
export class ProfilesRepository {
  constructor(@Inject(PG_POOL) readonly pool: pg.Pool) {}

  async find(workspace: string, user: string, db: Queryable = this.pool): Promise<(UserRow & { manual_away: boolean }) | undefined> {
    const { rows } = await db.query<UserRow & { manual_away: boolean }>(
      `SELECT ${USER_COLUMNS}, manual_away FROM users WHERE id = $1 AND workspace_id = $2`,
      [user, workspace],
    );
    return rows[0];
  }

  /** Users of the workspace among `ids`, in no particular order (unknown ids are left out). */
  async findMany(workspace: string, ids: string[]): Promise<UserRow[]> {
    const { rows } = await this.pool.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE workspace_id = $1 AND id = ANY($2)`, [
      workspace,
      ids,
    ]);
    return rows;
  }

  async findByEmail(workspace: string, email: string): Promise<UserRow | undefined> {
    const { rows } = await this.pool.query<UserRow>(
      `SELECT ${USER_COLUMNS} FROM users WHERE workspace_id = $1 AND lower(email) = lower($2) AND NOT deleted`,
      [workspace, email],
    );
    return rows[0];
  }

  /** Applies the change; returns the row as it now reads. */
  async update(db: Queryable, user: string, change: ProfileChange): Promise<UserRow> {
    const fields = CHANGEABLE.filter((f) => change[f] !== undefined);
    const sets = fields.map((f, i) => `${f} = $${i + 2}`);
    const { rows } = await db.query<UserRow>(
      `UPDATE users SET ${[...sets, 'profile_updated_at = now()'].join(', ')} WHERE id = $1 RETURNING ${USER_COLUMNS}`,
      [user, ...fields.map((f) => change[f])],
    );
    return rows[0];
  }

  /** Records the expiry in the outbox the job dispatcher turns into a delayed job. */
  async recordExpiration(db: Queryable, user: string, expiration: number): Promise<void> {
    await db.query('INSERT INTO status_expirations (user_id, expiration) VALUES ($1, $2) ON CONFLICT DO NOTHING', [user, expiration]);
  }

  /** Clears the status if it is still the one that expires at `expiration` and that time has come; true when it did. */
  async clearExpiredStatus(user: string, expiration: number): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE users SET status_text = '', status_emoji = '', status_expiration = 0, profile_updated_at = now()
        WHERE id = $1 AND status_expiration = $2 AND status_expiration <= extract(epoch FROM now())`,
      [user, expiration],
    );
    return rowCount === 1;
  }

  async setManualAway(user: string, away: boolean): Promise<void> {
    await this.pool.query('UPDATE users SET manual_away = $2 WHERE id = $1', [user, away]);
  }

  async notify(channel: string, payload: string, db: Queryable = this.pool): Promise<void> {
    await db.query('SELECT pg_notify($1, $2)', [channel, payload]);
  }
}
