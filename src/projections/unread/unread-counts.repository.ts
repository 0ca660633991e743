import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../../db/database.module.js';

/** Unread counts stop at this many per channel (clients show "999+"); mention counts are exact. */
export const UNREAD_DISPLAY_CAP = 1000;

export interface ChannelCounts {
  channel: string;
  /** Read marker, microseconds (0: nothing read). */
  lastRead: string;
  /** ts of the newest message counted in the channel (top-level or broadcast), microseconds; null if none. */
  latest: string | null;
  headSeq: number;
  unread: number;
  mentions: number;
}

// Per membership of the user: a message counts when it is after the read marker and after the user
// joined (a joiner does not inherit the channel's history as unread), is not the user's own, is not
// deleted, and is top-level or a thread reply broadcast to the channel. Mentions: the same messages
// that name the user, <!channel>/<!everyone> or <!here>. Each lateral query is an index range scan
// of one channel from the marker on; unread stops at the display cap so the work per channel is
// bounded, mentions scan only the partial index of messages that mention anyone.
const COUNTS = `
  SELECT m.channel_id, m.last_read::text, c.head_seq::text, b.since::text,
         (SELECT max(r.ts) FROM unread_messages r
           WHERE r.channel_id = m.channel_id AND r.counts_as_unread AND NOT r.deleted)::text AS latest,
         (SELECT count(*) FROM (
            SELECT 1 FROM unread_messages r
             WHERE r.channel_id = m.channel_id AND r.counts_as_unread AND NOT r.deleted
               AND r.ts > b.since AND r.user_id <> $1
             LIMIT $3) x)::int AS unread,
         (SELECT count(*) FROM unread_messages r
           WHERE r.channel_id = m.channel_id AND r.counts_as_unread AND NOT r.deleted
             AND (r.mentions_channel OR r.mentions_here OR r.mentions <> '{}')
             AND r.ts > b.since AND r.user_id <> $1
             AND (r.mentions_channel OR r.mentions_here OR $1 = ANY (r.mentions)))::int AS mentions
    FROM channel_members m
    JOIN channels c ON c.id = m.channel_id
    CROSS JOIN LATERAL (
      SELECT greatest(m.last_read, coalesce(
               (SELECT e.ts FROM events e WHERE e.channel_id = m.channel_id AND e.seq = m.joined_seq), 0)) AS since
    ) b
   WHERE m.user_id = $1 AND ($2::text IS NULL OR m.channel_id = $2)
   ORDER BY m.channel_id`;

interface CountsRow {
  channel_id: string;
  last_read: string;
  head_seq: string;
  since: string;
  latest: string | null;
  unread: number;
  mentions: number;
}

/** Per-user reads of the unread projection, against channel_members.last_read (set by conversations.mark). */
@Injectable()
export class UnreadCountsRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  /** Every channel the user belongs to, ordered by id. */
  async forUser(user: string): Promise<ChannelCounts[]> {
    const { rows } = await this.pool.query<CountsRow>(COUNTS, [user, null, UNREAD_DISPLAY_CAP]);
    return rows.map(toCounts);
  }

  /** One channel; undefined when the user is not a member. */
  async forChannel(user: string, channel: string): Promise<ChannelCounts | undefined> {
    const { rows } = await this.pool.query<CountsRow>(COUNTS, [user, channel, UNREAD_DISPLAY_CAP]);
    return rows[0] && toCounts(rows[0]);
  }
}

function toCounts(r: CountsRow): ChannelCounts {
  return {
    channel: r.channel_id,
    lastRead: r.last_read,
    latest: r.latest,
    headSeq: Number(r.head_seq),
    unread: r.unread,
    mentions: r.mentions,
  };
}
