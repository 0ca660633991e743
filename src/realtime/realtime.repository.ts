import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../db/database.module.js';

export interface Membership {
  channel: string;
  user: string;
  /** The channel's committed head when the row was read: the membership holds up to this seq. */
  head: number;
  joinedSeq: number;
}

/** The SQL the real-time layer needs: membership snapshots, channel heads, workspace checks. */
@Injectable()
export class RealtimeRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  /** The user's channels with their heads, read in one snapshot so membership and head agree. */
  async channelsOf(user: string): Promise<Membership[]> {
    const { rows } = await this.pool.query<{ channel_id: string; head_seq: string; joined_seq: string }>(
      `SELECT m.channel_id, c.head_seq, m.joined_seq
         FROM channel_members m JOIN channels c ON c.id = m.channel_id
        WHERE m.user_id = $1`,
      [user],
    );
    return rows.map((r) => ({ channel: r.channel_id, user, head: Number(r.head_seq), joinedSeq: Number(r.joined_seq) }));
  }

  /** Every membership of the given users (the listener's reconnect reconciliation). */
  async channelsOfUsers(users: string[]): Promise<Membership[]> {
    if (!users.length) return [];
    const { rows } = await this.pool.query<{ channel_id: string; user_id: string; head_seq: string; joined_seq: string }>(
      `SELECT m.channel_id, m.user_id, c.head_seq, m.joined_seq
         FROM channel_members m JOIN channels c ON c.id = m.channel_id
        WHERE m.user_id = ANY($1)`,
      [users],
    );
    return rows.map((r) => ({ channel: r.channel_id, user: r.user_id, head: Number(r.head_seq), joinedSeq: Number(r.joined_seq) }));
  }

  /** Which of `users` are members of which of `channels` (to notice joins to channels this node does not follow). */
  async membersAmong(channels: string[], users: string[]): Promise<Membership[]> {
    if (!channels.length || !users.length) return [];
    const { rows } = await this.pool.query<{ channel_id: string; user_id: string; head_seq: string; joined_seq: string }>(
      `SELECT m.channel_id, m.user_id, c.head_seq, m.joined_seq
         FROM channel_members m JOIN channels c ON c.id = m.channel_id
        WHERE m.channel_id = ANY($1) AND m.user_id = ANY($2)`,
      [channels, users],
    );
    return rows.map((r) => ({ channel: r.channel_id, user: r.user_id, head: Number(r.head_seq), joinedSeq: Number(r.joined_seq) }));
  }

  /** Committed heads of the given channels (the relay's safety poll). */
  async heads(channels: string[]): Promise<Map<string, number>> {
    if (!channels.length) return new Map();
    const { rows } = await this.pool.query<{ id: string; head_seq: string }>('SELECT id, head_seq FROM channels WHERE id = ANY($1)', [
      channels,
    ]);
    return new Map(rows.map((r) => [r.id, Number(r.head_seq)]));
  }

  /** The subset of `users` that exist in `workspace`. */
  async usersInWorkspace(workspace: string, users: string[]): Promise<string[]> {
    if (!users.length) return [];
    const { rows } = await this.pool.query<{ id: string }>('SELECT id FROM users WHERE workspace_id = $1 AND id = ANY($2)', [
      workspace,
      users,
    ]);
    return rows.map((r) => r.id);
  }

  /** A NOTIFY outside any append transaction (typing and presence between nodes). */
  async notify(channel: string, payload: string): Promise<void> {
    await this.pool.query('SELECT pg_notify($1, $2)', [channel, payload]);
  }

  /**
   * Heads of the public channels of `workspace` among `channels`. Private channels are left out: their
   * members get every event anyway, and a subscription must not outlive a membership.
   */
  async publicHeads(workspace: string, channels: string[]): Promise<Map<string, number>> {
    if (!channels.length) return new Map();
    const { rows } = await this.pool.query<{ id: string; head_seq: string }>(
      'SELECT c.id, c.head_seq FROM channels c WHERE c.workspace_id = $1 AND c.id = ANY($2) AND NOT c.is_private',
      [workspace, channels],
    );
    return new Map(rows.map((r) => [r.id, Number(r.head_seq)]));
  }
}
