import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../db/database.module.js';
import type { Queryable } from '../db/database.js';
import type { ChannelRow } from '../domain/channel.js';

/** Slack's conversation types, as `types=` names them. */
export type ConversationType = 'public_channel' | 'private_channel' | 'im' | 'mpim';

/**
 * SQL: `user` may read channel `c` now (channelPolicy's 'read' as a condition): it is in `workspace`,
 * and public, or private (DMs too) with `user` among its members. Archived channels stay readable;
 * one who left a private channel no longer reads it. `c`, `workspace` and `user` are SQL (an alias,
 * placeholders or columns). Search, files and reactions all filter by this one rule.
 */
export function readableChannel(c: string, workspace: string, user: string): string {
  return `(${c}.workspace_id = ${workspace} AND (NOT ${c}.is_private
    OR EXISTS (SELECT 1 FROM channel_members reader WHERE reader.channel_id = ${c}.id AND reader.user_id = ${user})))`;
}

// Channel rows seen by one user: membership, member count and their read marker come along.
const CHANNEL_FOR_USER = `
  SELECT c.id, c.workspace_id, c.name, c.is_private, c.is_archived, c.creator, c.topic, c.purpose,
         c.topic_creator, c.topic_last_set, c.purpose_creator, c.purpose_last_set, c.created_at, c.head_seq,
         m.user_id IS NOT NULL AS is_member, m.last_read, c.kind, c.member_key, m.is_open, $2::text AS viewer
    FROM channels c LEFT JOIN channel_members m ON m.channel_id = c.id AND m.user_id = $2`;

@Injectable()
export class ChannelsRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  /** The channel as `user` sees it, or undefined if it is not in `workspace`. */
  async find(workspace: string, id: string, user: string, db: Queryable = this.pool): Promise<ChannelRow | undefined> {
    const { rows } = await db.query<ChannelRow>(`${CHANNEL_FOR_USER} WHERE c.id = $1 AND c.workspace_id = $3`, [id, user, workspace]);
    return rows[0];
  }

  /**
   * Inserts the head row of a new channel; false when the name is taken in the workspace. The name is
   * claimed in channel_keys (a channel's own table cannot hold a per-workspace unique key once channels
   * is distributed by id on Citus): a concurrent claim waits for this transaction and then finds it.
   */
  async insert(db: Queryable, ch: { id: string; workspace: string; name: string; isPrivate: boolean; creator: string }): Promise<boolean> {
    const claimed = await db.query(
      `INSERT INTO channel_keys (workspace_id, kind, key, channel_id) VALUES ($1, 'name', $2, $3) ON CONFLICT DO NOTHING`,
      [ch.workspace, ch.name, ch.id],
    );
    if (claimed.rowCount !== 1) return false;
    await db.query(`INSERT INTO channels (id, workspace_id, name, is_private, creator) VALUES ($1, $2, $3, $4, $5)`, [
      ch.id,
      ch.workspace,
      ch.name,
      ch.isPrivate,
      ch.creator,
    ]);
    return true;
  }

  /**
   * Conversations visible to `user` of the given types, ordered by id: public channels, and private
   * channels and DMs they belong to. With `memberOnly`, only those `member` belongs to
   * (users.conversations: another user's non-public conversations only when `user` shares them).
   */
  async list(
    workspace: string,
    user: string,
    opts: { types: ConversationType[]; excludeArchived: boolean; afterId: string; limit: number; member?: string },
  ): Promise<ChannelRow[]> {
    const { rows } = await this.pool.query<ChannelRow>(
      `${CHANNEL_FOR_USER}
        WHERE c.workspace_id = $1 AND c.id > $3
          AND (CASE WHEN c.kind <> 'channel' THEN c.kind WHEN c.is_private THEN 'private_channel' ELSE 'public_channel' END) = ANY($4::text[])
          AND (NOT c.is_private OR m.user_id IS NOT NULL)
          AND ($7::text IS NULL OR EXISTS (SELECT 1 FROM channel_members o WHERE o.channel_id = c.id AND o.user_id = $7))
          AND (NOT $5 OR NOT c.is_archived)
        ORDER BY c.id LIMIT $6`,
      [workspace, user, opts.afterId, opts.types, opts.excludeArchived, opts.limit, opts.member ?? null],
    );
    return rows;
  }

  /**
   * Creates the DM of exactly these members unless it exists; either way answers its id and whether
   * this call created it. Concurrent calls for the same people meet on the unique member_key: one
   * inserts, the others wait for its commit and find its row.
   */
  async insertDm(
    db: Queryable,
    dm: { id: string; workspace: string; kind: 'im' | 'mpim'; memberKey: string; creator: string },
  ): Promise<{ id: string; created: boolean }> {
    // The member set is claimed in channel_keys; the loser of a race waits for the winner's commit.
    const claimed = await db.query(
      `INSERT INTO channel_keys (workspace_id, kind, key, channel_id) VALUES ($1, 'members', $2, $3) ON CONFLICT DO NOTHING`,
      [dm.workspace, dm.memberKey, dm.id],
    );
    if (claimed.rowCount === 1) {
      // A DM's name is its id, which keeps it out of the channel names' way as before.
      await db.query(`INSERT INTO channel_keys (workspace_id, kind, key, channel_id) VALUES ($1, 'name', $2, $2)`, [dm.workspace, dm.id]);
      await db.query(
        `INSERT INTO channels (id, workspace_id, name, is_private, creator, kind, member_key) VALUES ($1, $2, $1, true, $3, $4, $5)`,
        [dm.id, dm.workspace, dm.creator, dm.kind, dm.memberKey],
      );
      return { id: dm.id, created: true };
    }
    const found = await db.query<{ id: string }>(
      `SELECT channel_id AS id FROM channel_keys WHERE workspace_id = $1 AND kind = 'members' AND key = $2`,
      [dm.workspace, dm.memberKey],
    );
    return { id: found.rows[0].id, created: false };
  }

  /** Opens or closes the conversation in the member's sidebar; answers whether it was open before (undefined: not a member). */
  async setOpen(channel: string, user: string, open: boolean, db: Queryable = this.pool): Promise<boolean | undefined> {
    const { rows } = await db.query<{ was_open: boolean }>(
      `UPDATE channel_members m SET is_open = $3 FROM channel_members before
        WHERE m.channel_id = $1 AND m.user_id = $2 AND before.channel_id = $1 AND before.user_id = $2
       RETURNING before.is_open AS was_open`,
      [channel, user, open],
    );
    return rows[0]?.was_open;
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

  /** `seq`: the join event's, appended before in the same transaction; its ts is copied for client.counts. */
  async addMember(db: Queryable, channel: string, user: string, seq: number): Promise<void> {
    await db.query(
      // INSERT ... SELECT, not a sub-select in VALUES: Citus refuses subqueries in an INSERT.
      `INSERT INTO channel_members (channel_id, user_id, joined_seq, joined_ts)
       SELECT $1, $2, $3, coalesce(max(e.ts), 0) FROM events e WHERE e.channel_id = $1 AND e.seq = $3`,
      [channel, user, seq],
    );
  }

  async removeMember(db: Queryable, channel: string, user: string): Promise<void> {
    await db.query('DELETE FROM channel_members WHERE channel_id = $1 AND user_id = $2', [channel, user]);
  }

  async archive(db: Queryable, channel: string, archived = true): Promise<void> {
    await db.query('UPDATE channels SET is_archived = $2 WHERE id = $1', [channel, archived]);
  }

  /** The id of the channel called `name` in the workspace (what `#general` or `general` means), if any. */
  async idByName(workspace: string, name: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ id: string }>('SELECT id FROM channels WHERE workspace_id = $1 AND name = $2', [
      workspace,
      name,
    ]);
    return rows[0]?.id;
  }

  /** False when another channel of the workspace has the name already (its claim in channel_keys moves with it). */
  async rename(db: Queryable, channel: string, name: string): Promise<boolean> {
    try {
      const { rowCount } = await db.query(
        `UPDATE channel_keys k SET key = $2 WHERE k.channel_id = $1 AND k.kind = 'name'
            AND NOT EXISTS (SELECT 1 FROM channel_keys o WHERE o.workspace_id = k.workspace_id AND o.kind = 'name' AND o.key = $2 AND o.channel_id <> $1)`,
        [channel, name],
      );
      if (rowCount !== 1) return false;
      await db.query('UPDATE channels SET name = $2 WHERE id = $1', [channel, name]);
      return true;
    } catch (err) {
      // A concurrent rename or create took the name after our check (the caller's transaction rolls back).
      if ((err as { code?: string }).code === '23505') return false;
      throw err;
    }
  }

  /** Sets the topic or the purpose, with who set it and when (unix seconds). */
  async describe(db: Queryable, channel: string, field: 'topic' | 'purpose', value: string, user: string): Promise<void> {
    const sql =
      field === 'topic'
        ? 'UPDATE channels SET topic = $2, topic_creator = $3, topic_last_set = extract(epoch FROM now())::bigint WHERE id = $1'
        : 'UPDATE channels SET purpose = $2, purpose_creator = $3, purpose_last_set = extract(epoch FROM now())::bigint WHERE id = $1';
    await db.query(sql, [channel, value, user]);
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
}
