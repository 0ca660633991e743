import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../db/database.module.js';
import type { Queryable } from '../db/database.js';
import type { ChannelRow } from '../domain/channel.js';

// Channel rows seen by one user: membership, member count and their read marker come along.
const CHANNEL_FOR_USER = `
  SELECT c.id, c.workspace_id, c.name, c.is_private, c.is_archived, c.creator, c.topic, c.purpose,
         c.created_at, c.head_seq, m.user_id IS NOT NULL AS is_member, m.last_read
    FROM channels c LEFT JOIN channel_members m ON m.channel_id = c.id AND m.user_id = $2`;

@Injectable()
export class ChannelsRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  /** The channel as `user` sees it, or undefined if it is not in `workspace`. */
  async find(workspace: string, id: string, user: string, db: Queryable = this.pool): Promise<ChannelRow | undefined> {
    const { rows } = await db.query<ChannelRow>(`${CHANNEL_FOR_USER} WHERE c.id = $1 AND c.workspace_id = $3`, [id, user, workspace]);
    return rows[0];
  }

  /** Inserts the head row of a new channel; undefined when the name is taken in the workspace. */
  async insert(db: Queryable, ch: { id: string; workspace: string; name: string; isPrivate: boolean; creator: string }): Promise<boolean> {
    const { rowCount } = await db.query(
      `INSERT INTO channels (id, workspace_id, name, is_private, creator) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (workspace_id, name) DO NOTHING`,
      [ch.id, ch.workspace, ch.name, ch.isPrivate, ch.creator],
    );
    return rowCount === 1;
  }

  /** Channels visible to `user`: public ones, and private ones they belong to; ordered by id. */
  async list(
    workspace: string,
    user: string,
    opts: { publicChannels: boolean; privateChannels: boolean; excludeArchived: boolean; afterId: string; limit: number },
  ): Promise<ChannelRow[]> {
    const { rows } = await this.pool.query<ChannelRow>(
      `${CHANNEL_FOR_USER}
        WHERE c.workspace_id = $1 AND c.id > $3
          AND ((NOT c.is_private AND $4) OR (c.is_private AND $5 AND m.user_id IS NOT NULL))
          AND (NOT $6 OR NOT c.is_archived)
        ORDER BY c.id LIMIT $7`,
      [workspace, user, opts.afterId, opts.publicChannels, opts.privateChannels, opts.excludeArchived, opts.limit],
    );
    return rows;
  }

  /** O(members): only for conversations.info with include_num_members, never on every read. */
  async countMembers(channel: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM channel_members WHERE channel_id = $1', [
      channel,
    ]);
    return rows[0].n;
  }

  async memberIds(channel: string, afterUser: string, limit: number, db: Queryable = this.pool): Promise<string[]> {
    const { rows } = await db.query<{ user_id: string }>(
      'SELECT user_id FROM channel_members WHERE channel_id = $1 AND user_id > $2 ORDER BY user_id LIMIT $3',
      [channel, afterUser, limit],
    );
    return rows.map((r) => r.user_id);
  }

  async isMember(db: Queryable, channel: string, user: string): Promise<boolean> {
    const { rowCount } = await db.query('SELECT 1 FROM channel_members WHERE channel_id = $1 AND user_id = $2', [channel, user]);
    return rowCount === 1;
  }

  async addMember(db: Queryable, channel: string, user: string, seq: number): Promise<void> {
    await db.query('INSERT INTO channel_members (channel_id, user_id, joined_seq) VALUES ($1, $2, $3)', [channel, user, seq]);
  }

  async removeMember(db: Queryable, channel: string, user: string): Promise<void> {
    await db.query('DELETE FROM channel_members WHERE channel_id = $1 AND user_id = $2', [channel, user]);
  }

  async archive(db: Queryable, channel: string): Promise<void> {
    await db.query('UPDATE channels SET is_archived = true WHERE id = $1', [channel]);
  }

  /**
   * Moves the user's read marker forward only (a late mark never un-reads). Undefined when the user
   * is not a member; otherwise whether the marker moved.
   */
  async markRead(channel: string, user: string, ts: bigint): Promise<{ moved: boolean } | undefined> {
    const { rows } = await this.pool.query<{ moved: boolean }>(
      `UPDATE channel_members m SET last_read = greatest(m.last_read, $3)
         FROM channel_members before
        WHERE m.channel_id = $1 AND m.user_id = $2 AND before.channel_id = $1 AND before.user_id = $2
       RETURNING before.last_read < m.last_read AS moved`,
      [channel, user, ts.toString()],
    );
    return rows[0];
  }

  /** Names and settings of the given channels (client.boot: the sidebar's page of channels). */
  async describe(workspace: string, ids: string[]) {
    const { rows } = await this.pool.query<{
      id: string;
      name: string;
      is_private: boolean;
      is_archived: boolean;
      topic: string;
      purpose: string;
      creator: string;
      created_at: Date;
    }>(
      'SELECT id, name, is_private, is_archived, topic, purpose, creator, created_at FROM channels WHERE workspace_id = $1 AND id = ANY($2)',
      [workspace, ids],
    );
    return rows;
  }
}
