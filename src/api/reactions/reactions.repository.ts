import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../../db/database.module.js';
import { readableChannel } from '../channels.repository.js';

/** Slack's reactions on a message: one entry per emoji, users in the order they reacted. */
export interface Reaction {
  name: string;
  users: string[];
  count: number;
}

/** The most distinct emoji one message takes (Slack's too_many_reactions). */
export const MAX_REACTION_NAMES = 50;

@Injectable()
export class ReactionsRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  /**
   * Adds or removes one reaction through react() (plpgsql): the channel rules, the message and the
   * reaction are checked under the channel lock and the event appended in one round trip.
   */
  async react(workspace: string, channel: string, user: string, ts: bigint, name: string, add: boolean) {
    const { rows } = await this.pool.query<{ error: string | null; seq: string | null }>(
      'SELECT error, seq FROM react($1, $2, $3, $4, $5, $6, $7)',
      [workspace, channel, user, ts.toString(), name, add, MAX_REACTION_NAMES],
    );
    return rows[0];
  }

  /** The reactions of each of the given messages (ts in microseconds) of one channel. */
  async forMessages(channel: string, ts: string[]): Promise<Map<string, Reaction[]>> {
    const byTs = new Map<string, Reaction[]>();
    if (!ts.length) return byTs;
    const { rows } = await this.pool.query<{ message_ts: string; name: string; users: string[] }>(
      `SELECT message_ts, name, array_agg(user_id ORDER BY seq) AS users
         FROM reactions WHERE channel_id = $1 AND message_ts = ANY($2::bigint[])
        GROUP BY message_ts, name ORDER BY message_ts, min(seq)`,
      [channel, ts],
    );
    for (const r of rows) {
      const list = byTs.get(r.message_ts) ?? [];
      list.push({ name: r.name, users: r.users, count: r.users.length });
      byTs.set(r.message_ts, list);
    }
    return byTs;
  }

  /**
   * Messages `user` reacted to, in channels `viewer` may read (public ones, or ones they belong to),
   * live ones only, ordered by (channel, ts) after the cursor.
   */
  async reactedBy(workspace: string, user: string, viewer: string, after: { channel: string; ts: string }, limit: number) {
    const { rows } = await this.pool.query<{ channel_id: string; message_ts: string }>(
      `SELECT DISTINCT r.channel_id, r.message_ts
         FROM reactions r
         JOIN channels c ON c.id = r.channel_id
         JOIN messages m ON m.channel_id = r.channel_id AND m.ts = r.message_ts AND NOT m.deleted
        WHERE r.user_id = $2 AND (r.channel_id, r.message_ts) > ($4, $5::bigint)
          AND ${readableChannel('c', '$1', '$3')}
        ORDER BY r.channel_id, r.message_ts LIMIT $6`,
      [workspace, user, viewer, after.channel, after.ts, limit],
    );
    return rows;
  }
}
