import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../../db/database.module.js';

/**
 * Counting scans at most this many messages past the read marker per channel: unread stops there
 * (own messages in the window count toward the scan, so it can stop a little lower; clients show
 * "999+"). Mention counts are exact.
 */
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
  /** 'im' and 'mpim' for DMs (client.counts lists them apart). */
  kind: 'channel' | 'im' | 'mpim';
}

// Per membership of the user: a message counts when it is after the read marker and after the user
// joined (a joiner does not inherit the channel's history as unread), is not the user's own, is not
// deleted, and is top-level or a thread reply broadcast to the channel. Mentions: the same messages
// that name the user, <!channel>/<!everyone> or <!here>.
//
// A channel whose newest countable message (unread_channels, kept by the projection) is not after
// the read marker has nothing unread and costs its three rows: the messages are only probed behind
// that test (a WHERE on outer columns only is a one-time filter, evaluated per channel before its
// scan). Most of a sidebar is read. Otherwise the work per channel is bounded: one index-only range
// scan of the countable index from `since` = max(marker, join), at most $3 rows, gives unread and
// mentions together; only when it stops at the cap are mentions counted separately (the partial
// index of messages that mention anyone). The join's ts is the membership's copy (joined_ts); only
// a row written without one reads the join event in the log, by a join inside a FROM, not by a
// sub-select without FROM: Citus cannot push that down.
const COUNTS = `
  SELECT m.channel_id, m.last_read, c.head_seq, c.kind, nullif(h.latest_ts, 0) AS latest,
         -- What client.boot shows of the channel, from the row joined anyway.
         c.workspace_id, c.name, c.is_private, c.is_archived, c.topic, c.purpose, c.created_at, coalesce(c.member_key, '') AS member_key,
         s.unread::int AS unread,
         -- In a DM every message is addressed to its members: each unread one counts as a mention (Slack).
         (CASE WHEN c.kind <> 'channel' THEN s.unread
               WHEN s.scanned < $3 THEN s.mentions
               ELSE (SELECT count(*) FROM unread_messages r
                      WHERE r.channel_id = m.channel_id AND r.counts_as_unread AND NOT r.deleted
                        AND (r.mentions_channel OR r.mentions_here OR r.mentions <> '{}')
                        AND r.ts > b.since AND r.user_id <> $1
                        AND (r.mentions_channel OR r.mentions_here OR $1 = ANY (r.mentions))) END)::int AS mentions
    FROM channel_members m
    JOIN channels c ON c.id = m.channel_id
    LEFT JOIN unread_channels h ON h.channel_id = m.channel_id
    CROSS JOIN LATERAL (
      SELECT greatest(m.last_read, coalesce(m.joined_ts, max(je.ts), 0)) AS since FROM events je
       WHERE je.channel_id = m.channel_id AND je.seq = m.joined_seq AND h.latest_ts > m.last_read AND m.joined_ts IS NULL) b
    CROSS JOIN LATERAL (
      SELECT count(*) AS scanned,
             count(*) FILTER (WHERE x.user_id <> $1) AS unread,
             count(*) FILTER (WHERE x.user_id <> $1 AND (x.mentions_channel OR x.mentions_here OR $1 = ANY (x.mentions))) AS mentions
        FROM (SELECT r.user_id, r.mentions, r.mentions_channel, r.mentions_here FROM unread_messages r
               WHERE r.channel_id = m.channel_id AND r.counts_as_unread AND NOT r.deleted AND r.ts > b.since AND h.latest_ts > b.since
               ORDER BY r.ts LIMIT $3) x
    ) s
   WHERE m.user_id = $1 AND CHANNELS AND m.channel_id > $4
   ORDER BY m.channel_id
   LIMIT $5`;

/** One channel: $2. */
const ONE_CHANNEL = COUNTS.replace('CHANNELS', 'm.channel_id = $2');

/** Microseconds as Slack writes a ts ("<seconds>.<6 digits>"; formatTs in SQL). */
const slackTs = (micros: string) => `concat(${micros} / 1000000, '.', lpad((${micros} % 1000000)::text, 6, '0'))`;

/** A text column as a JSON string (PostgreSQL escapes as JSON.stringify does). */
const json = (text: string) => `to_json(${text})::text`;

/** The counts part of an entry, after its id: the same in client.counts and client.boot. */
const STATE = `'"last_read":"', ${slackTs('k.last_read')},
                '","latest":', CASE WHEN k.latest IS NULL THEN 'null' ELSE concat('"', ${slackTs('k.latest')}, '"') END,
                ',"latest_seq":', k.head_seq, ',"unread_count":', k.unread, ',"mention_count":', k.mentions,
                ',"has_unreads":', (k.unread > 0)::text, '}'`;

/**
 * client.counts' entry of each channel, written as JSON by the database: the app passes it through
 * instead of parsing seven columns per row, building an object and serializing it again (a 1,000
 * channel sidebar is ~150 KiB). Same keys, order and values as the entry built from ChannelCounts.
 */
const ENTRY = (counts: string) => `
  SELECT k.channel_id, k.kind, concat('{"id":', ${json('k.channel_id')}, ',', ${STATE}) AS entry
    FROM (${counts}) k`;

/**
 * client.boot's entry of each channel (the counts and what the sidebar shows of the channel), as
 * JSON text the same way, from the channels row the counting query joins anyway: one query, no
 * second read of 1,000 channels by id and no objects built in the app. Keys and order as Slack's
 * conversation objects: an IM names the other member (`user`), a group DM its `mpdm-` name and
 * members. $6 is the caller's workspace; a channel of another one has no entry (null).
 */
const BOOT_ENTRY = (counts: string) => `
  SELECT k.channel_id, k.kind,
         CASE WHEN k.workspace_id = $6 THEN concat('{"id":', ${json('k.channel_id')},
           CASE k.kind
             WHEN 'im' THEN concat(',"is_im":true,"user":', ${json(
               `CASE WHEN split_part(k.member_key, ',', 1) <> $1 OR split_part(k.member_key, ',', 2) IN ('', $1)
                     THEN split_part(k.member_key, ',', 1) ELSE split_part(k.member_key, ',', 2) END`,
             )})
             WHEN 'mpim' THEN concat(',"is_mpim":true,"is_group":true,"is_private":true,"name":',
               ${json(`concat('mpdm-', replace(lower(k.member_key), ',', '--'), '-1')`)},
               ',"members":', to_json(string_to_array(k.member_key, ','))::text)
             ELSE concat(',"name":', ${json('k.name')}, ',"is_channel":', (NOT k.is_private)::text,
               ',"is_group":', k.is_private::text, ',"is_private":', k.is_private::text, ',"is_archived":', k.is_archived::text,
               ',"topic":{"value":', ${json('k.topic')}, '},"purpose":{"value":', ${json('k.purpose')}, '}')
           END,
           ',"is_member":true,"created":', floor(extract(epoch FROM k.created_at)), ',', ${STATE}) END AS entry
    FROM (${counts}) k`;

/**
 * A sidebar is counted in HALVES queries at once, each over the channels whose id hashes to its
 * $2, on connections of their own: the per-channel probes are the whole cost, and two backends
 * share them between two cores. Prepared statements (named: parsed and planned once per
 * connection) save planning these queries on every call.
 */
const HALVES = 2;
const SIDEBAR_PART_COUNTS = COUNTS.replace('CHANNELS', `(hashtext(m.channel_id) & ${HALVES - 1}) = $2`);
const SIDEBAR_PART = { name: 'unread_counts_sidebar_part', text: SIDEBAR_PART_COUNTS };
const SIDEBAR_PART_ENTRIES = { name: 'unread_counts_sidebar_part_entries', text: ENTRY(SIDEBAR_PART_COUNTS) };
const SIDEBAR_PART_BOOT = { name: 'unread_counts_sidebar_part_boot', text: BOOT_ENTRY(SIDEBAR_PART_COUNTS) };

interface CountsRow {
  channel_id: string;
  kind: 'channel' | 'im' | 'mpim';
  last_read: string;
  head_seq: string;
  latest: string | null;
  unread: number;
  mentions: number;
}

/** A channel's client.counts entry, as JSON text. */
export interface ChannelEntry {
  channel_id: string;
  kind: ChannelCounts['kind'];
  entry: string;
}

/** A channel's client.boot entry, as JSON text; null for a channel of another workspace than the caller's. */
export type BootEntry = Omit<ChannelEntry, 'entry'> & { entry: string | null };

type Page = { afterChannel?: string; limit?: number };

/** Per-user reads of the unread projection, against channel_members.last_read (set by conversations.mark). */
@Injectable()
export class UnreadCountsRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  /** The channels the user belongs to, ordered by id, after `afterChannel` (keyset pages). */
  async forUser(user: string, page: Page = {}, cap = UNREAD_DISPLAY_CAP): Promise<ChannelCounts[]> {
    return (await this.sidebar<CountsRow>(SIDEBAR_PART, user, page, cap)).map(toCounts);
  }

  /** forUser's channels as client.counts entries (JSON text), in the same order. */
  async entriesForUser(user: string, page: Page = {}, cap = UNREAD_DISPLAY_CAP): Promise<ChannelEntry[]> {
    return this.sidebar<ChannelEntry>(SIDEBAR_PART_ENTRIES, user, page, cap);
  }

  /** forUser's channels as client.boot entries (JSON text) for a caller of `workspace`, in the same order. */
  async bootEntriesForUser(user: string, workspace: string, page: Page = {}, cap = UNREAD_DISPLAY_CAP): Promise<BootEntry[]> {
    return this.sidebar<BootEntry>(SIDEBAR_PART_BOOT, user, page, cap, [workspace]);
  }

  /** One channel; undefined when the user is not a member. */
  async forChannel(user: string, channel: string, cap = UNREAD_DISPLAY_CAP): Promise<ChannelCounts | undefined> {
    const { rows } = await this.pool.query<CountsRow>(ONE_CHANNEL, [user, channel, cap, '', 1]);
    return rows[0] && toCounts(rows[0]);
  }

  private async sidebar<R extends { channel_id: string }>(
    statement: { name: string; text: string },
    user: string,
    page: Page,
    cap: number,
    extra: unknown[] = [], // $6 on
  ): Promise<R[]> {
    const parts = await Promise.all(
      Array.from({ length: HALVES }, (_, k) =>
        this.pool.query<R>({ ...statement, values: [user, k, cap, page.afterChannel ?? '', page.limit ?? null, ...extra] }),
      ),
    );
    // Each part is in id order and holds its first `limit`: the page is the first `limit` of their merge.
    // Ids are ASCII letters and digits: JavaScript's order is PostgreSQL's for them.
    const rows = parts.flatMap((p) => p.rows).sort((a, b) => (a.channel_id < b.channel_id ? -1 : a.channel_id > b.channel_id ? 1 : 0));
    return rows.slice(0, page.limit ?? rows.length);
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
    kind: r.kind,
  };
}
