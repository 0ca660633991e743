import type { Queryable } from '../db/database.js';
import type { ChannelEvent, MessagePosted } from '../domain/events.js';
import { MESSAGE_COLUMNS, toSlackMessage, type MessageRow } from '../domain/message.js';
import { formatTs } from '../domain/ts.js';
import type { BodyOpener } from './body-opener.js';
import type { ClusterClock } from './cluster-clock.js';
import { type CursorPart, cursorPart, formatCursor, type GlobalCursor, START, type StoredData } from './events.js';

interface EventRowBase {
  channel_id: string;
  seq: string;
  ts: string;
  user_id: string | null;
  client_msg_id: string | null;
  tx_id: string;
  position: string;
  body: MessageRow | null;
  /** Cluster reads only: microseconds since the epoch of created_at, to interleave the node groups. */
  at?: string;
}

/** A row of events (and the body joined in); `data` is what its type stores (StoredData). */
type EventRow = EventRowBase &
  (
    | { type: 'message'; data: { thread_ts?: number; reply_broadcast?: true } }
    | { [T in keyof StoredData]: { type: T; data: StoredData[T] } }[keyof StoredData]
  );

// Bodies are joined in at read time: a message event carries its own body, an edit carries the
// message it changed. Deleted or expired bodies therefore never leave the store.
const SELECT_EVENTS = `
  SELECT e.channel_id, e.seq, e.ts, e.type, e.user_id, e.data, e.client_msg_id, e.tx_id::text, e.position,
         -- Two branches, each one index probe (a CASE in one WHERE scanned the channel's bodies per event).
         (SELECT to_jsonb(b) FROM (
            SELECT ${MESSAGE_COLUMNS} FROM messages m
             WHERE e.type = 'message' AND m.channel_id = e.channel_id AND m.seq = e.seq
            UNION ALL
            SELECT ${MESSAGE_COLUMNS} FROM messages m
             WHERE e.type = 'message_changed' AND m.channel_id = e.channel_id AND m.ts = (e.data->>'message_ts')::bigint) b) AS body
    FROM events e`;

/** Events of one channel with seq > afterSeq, in seq order. */
export async function readChannel(
  db: Queryable,
  channel: string,
  afterSeq: number,
  limit: number,
  opener?: BodyOpener,
): Promise<ChannelEvent[]> {
  const { rows } = await db.query<EventRow>(`${SELECT_EVENTS} WHERE e.channel_id = $1 AND e.seq > $2 ORDER BY e.seq LIMIT $3`, [
    channel,
    afterSeq,
    limit,
  ]);
  await opener?.openRows(rows.map((r) => r.body));
  return rows.map(toChannelEvent);
}

/**
 * `readChannel` for many channels in one statement (the relay's wake-ups, gathered while its
 * previous read ran): up to `limit` events per channel, each channel's in seq order. Not on Citus,
 * where the lateral join on a set of channel ids is not a single-shard query.
 */
export async function readChannels(
  db: Queryable,
  from: ReadonlyArray<{ channel: string; afterSeq: number }>,
  limit: number,
  opener?: BodyOpener,
): Promise<Map<string, ChannelEvent[]>> {
  const { rows } = await db.query<EventRow>(
    `SELECT x.* FROM unnest($1::text[], $2::bigint[]) AS f(channel_id, after_seq)
       CROSS JOIN LATERAL (${SELECT_EVENTS} WHERE e.channel_id = f.channel_id AND e.seq > f.after_seq ORDER BY e.seq LIMIT $3) x
      ORDER BY x.channel_id, x.seq`,
    [from.map((f) => f.channel), from.map((f) => f.afterSeq), limit],
  );
  await opener?.openRows(rows.map((r) => r.body));
  const byChannel = new Map<string, ChannelEvent[]>(from.map((f) => [f.channel, []]));
  for (const row of rows) byChannel.get(row.channel_id)?.push(toChannelEvent(row));
  return byChannel;
}

/**
 * Events of every channel after `cursor`, in commit-safe order. Only transactions older than every
 * transaction still running are read (pg_snapshot_xmin), so a writer that commits late can never be
 * skipped by a reader that has already moved past its position. One server: all rows are in clock
 * domain (tx_node) 0.
 */
export async function readGlobal(
  db: Queryable,
  cursor: GlobalCursor,
  limit: number,
  opener?: BodyOpener,
): Promise<Array<ChannelEvent & { cursor: string }>> {
  const { rows } = await db.query<EventRow>(
    `${SELECT_EVENTS}
      WHERE e.tx_node = 0 AND (e.tx_id, e.position) > ($1::xid8, $2::bigint)
        AND e.tx_id < pg_snapshot_xmin(pg_current_snapshot())
      ORDER BY e.tx_id, e.position LIMIT $3`,
    [cursor.txId, cursor.position, limit],
  );
  await opener?.openRows(rows.map((r) => r.body));
  return rows.map((row) => withCursor(toChannelEvent(row), formatCursor({ txId: row.tx_id, position: row.position })));
}

/**
 * A consumer's checkpoint and the events after it (as readGlobal reads them) in one statement: an
 * idle pass of a consumer costs this one read. Undefined when the checkpoint row does not exist.
 * One server only (on Citus the parts of the cursor are read group by group: readGlobalCluster).
 */
export async function readAfterCheckpoint(
  db: Queryable,
  name: string,
  limit: number,
  opener?: BodyOpener,
): Promise<{ checkpoint: GlobalCursor; events: Array<ChannelEvent & { cursor: string }> } | undefined> {
  const { rows } = await db.query<CheckpointColumns & Partial<EventRow>>(
    `SELECT c.tx_id::text AS cp_tx_id, c.position AS cp_position, c.parts AS cp_parts, ev.*
       FROM checkpoints c
       LEFT JOIN LATERAL (${SELECT_EVENTS}
          WHERE e.tx_node = 0 AND (e.tx_id, e.position) > (c.tx_id, c.position)
            AND e.tx_id < pg_snapshot_xmin(pg_current_snapshot())
          ORDER BY e.tx_id, e.position LIMIT $2) ev ON true
      WHERE c.name = $1`,
    [name, limit],
  );
  if (!rows[0]) return undefined;
  const checkpoint = checkpointCursor({ tx_id: rows[0].cp_tx_id, position: rows[0].cp_position, parts: rows[0].cp_parts });
  // No event after the checkpoint: the one row carries the checkpoint alone.
  const found = (rows[0].channel_id === null ? [] : rows) as EventRow[];
  await opener?.openRows(found.map((r) => r.body));
  return {
    checkpoint,
    events: found.map((row) => withCursor(toChannelEvent(row), formatCursor({ txId: row.tx_id, position: row.position }))),
  };
}

interface CheckpointColumns {
  cp_tx_id: string;
  cp_position: string;
  cp_parts: Record<string, string> | null;
}

/** A checkpoints row: parts {"<group>": "<tx_id>-<position>"} on Citus, else tx_id/position. */
export interface CheckpointRow {
  tx_id: string;
  position: string;
  parts: Record<string, string> | null;
}

/** A checkpoints row as a cursor. */
export function checkpointCursor(row: CheckpointRow): GlobalCursor {
  if (!row.parts) return { txId: row.tx_id, position: row.position };
  const parts: Record<string, CursorPart> = {};
  for (const [group, value] of Object.entries(row.parts)) {
    const [txId, position] = value.split('-');
    parts[group] = { txId, position };
  }
  return { ...START, parts };
}

/**
 * The same on Citus: the rule above holds per node group (each has its own transaction ids and
 * snapshot), so each group's part of the cursor is read below that group's xmin, asked first
 * (ClusterClock.frontier). The groups' events are interleaved by commit-time order of creation
 * (created_at), each group's in its own order; every event's cursor carries every group's part, so a
 * consumer resumes from any event without skipping or repeating one. Order across channels on
 * different workers is therefore approximate (as close as the workers' clocks), as in Slack.
 */
export async function readGlobalCluster(
  db: Queryable,
  clock: ClusterClock,
  cursor: GlobalCursor,
  limit: number,
  opener?: BodyOpener,
): Promise<Array<ChannelEvent & { cursor: string }>> {
  const frontier = await clock.frontier(db);
  const groups = [...new Set([...frontier.keys(), ...Object.keys(cursor.parts ?? {})])].sort((a, b) => Number(a) - Number(b));
  const perGroup: EventRow[][] = [];
  for (const group of groups) {
    const from = cursorPart(cursor, group);
    const { rows } = await db.query<EventRow>(
      `${SELECT_EVENTS.replace('FROM events e', ', (extract(epoch FROM e.created_at) * 1000000)::bigint::text AS at FROM events e')}
        WHERE e.tx_node = $1 AND (e.tx_id, e.position) > ($2::xid8, $3::bigint)
          AND ($4::xid8 IS NULL OR e.tx_id < $4::xid8)
        ORDER BY e.tx_id, e.position LIMIT $5`,
      // A group gone from the cluster has no transaction running: all of its rows are final.
      [Number(group), from.txId, from.position, frontier.get(group) ?? null, limit],
    );
    perGroup.push(rows);
  }
  const parts: Record<string, CursorPart> = {};
  for (const group of groups) parts[group] = cursorPart(cursor, group);
  const next = groups.map(() => 0);
  const taken: Array<{ row: EventRow; cursor: string }> = [];
  while (taken.length < limit) {
    let pick = -1;
    for (let i = 0; i < groups.length; i++) {
      const row = perGroup[i][next[i]];
      if (row && (pick < 0 || BigInt(row.at!) < BigInt(perGroup[pick][next[pick]].at!))) pick = i;
    }
    if (pick < 0) break;
    const row = perGroup[pick][next[pick]++];
    parts[groups[pick]] = { txId: row.tx_id, position: row.position };
    taken.push({ row, cursor: formatCursor({ ...START, parts: { ...parts } }) });
  }
  await opener?.openRows(taken.map((t) => t.row.body));
  return taken.map(({ row, cursor: after }) => withCursor(toChannelEvent(row), after));
}

/** The newest committed event of each clock domain visible now; undefined for an empty log. */
export async function headCursor(db: Queryable, clock?: ClusterClock): Promise<GlobalCursor | undefined> {
  const groups = clock ? await clock.groups(db) : ['0'];
  const parts: Record<string, CursorPart> = {};
  for (const group of groups) {
    const { rows } = await db.query<{ tx_id: string; position: string }>(
      'SELECT tx_id::text, position FROM events WHERE tx_node = $1 ORDER BY tx_id DESC, position DESC LIMIT 1',
      [Number(group)],
    );
    if (rows[0]) parts[group] = { txId: rows[0].tx_id, position: rows[0].position };
  }
  if (!Object.keys(parts).length) return undefined;
  return clock ? { ...START, parts } : parts['0'];
}

/** Committed events after `cursor` (counted up to `cap` per clock domain) and the age of the oldest, in seconds. */
export async function eventsBehind(
  db: Queryable,
  cursor: GlobalCursor,
  cap: number,
  clock?: ClusterClock,
): Promise<{ n: number; age: number | null }> {
  const groups = clock ? [...new Set([...(await clock.groups(db)), ...Object.keys(cursor.parts ?? {})])] : ['0'];
  let n = 0;
  let age: number | null = null;
  for (const group of groups) {
    const from = cursorPart(cursor, group);
    const { rows } = await db.query<{ n: number; age: number | null }>(
      `WITH behind AS (
         SELECT created_at FROM events WHERE tx_node = $1 AND (tx_id, position) > ($2::xid8, $3::bigint) ORDER BY tx_id, position LIMIT $4)
       SELECT count(*)::int AS n, extract(epoch FROM now() - min(created_at))::float8 AS age FROM behind`,
      [Number(group), from.txId, from.position, cap],
    );
    n += rows[0].n;
    if (rows[0].age !== null) age = Math.max(age ?? 0, rows[0].age);
  }
  return { n, age };
}

/** The event with the cursor to resume after it, added in place (a copy per event of the log was garbage). */
function withCursor(event: ChannelEvent, cursor: string): ChannelEvent & { cursor: string } {
  const withIt = event as ChannelEvent & { cursor: string };
  withIt.cursor = cursor;
  return withIt;
}

const messageItem = (channel: string, ts: number) => ({ type: 'message' as const, channel, ts: formatTs(ts) });

function toChannelEvent(row: EventRow): ChannelEvent {
  const base = { channel: row.channel_id, seq: Number(row.seq), ts: formatTs(row.ts) };
  const user = row.user_id ? { user: row.user_id } : {};
  switch (row.type) {
    case 'message': {
      // Built field by field rather than by spreads: the projector reads every event of the log
      // through here, and each spread was an object allocated and copied. The key order is the
      // one clients and the replay see.
      // A deleted or expired message keeps its place in the log as a tombstone without text.
      const body = row.body && !row.body.deleted ? toSlackMessage(row.body) : undefined;
      const { channel, seq, ts } = base;
      const text = body?.text ?? '';
      const event: MessagePosted = row.user_id
        ? { channel, seq, ts, type: 'message', user: row.user_id, text }
        : ({ channel, seq, ts, type: 'message', text } as MessagePosted);
      if (row.data.thread_ts) event.thread_ts = formatTs(row.data.thread_ts);
      if (!body) event.subtype = 'tombstone';
      else if (row.data.reply_broadcast) event.subtype = 'thread_broadcast';
      else if (body.subtype === 'me_message') event.subtype = 'me_message';
      if (row.client_msg_id) event.client_msg_id = row.client_msg_id;
      if (!body) return event;
      if (body.files) {
        event.files = body.files;
        event.upload = true;
      }
      // Blocks and attachments travel with the message, as Slack's message event carries them.
      if (body.blocks) event.blocks = body.blocks;
      if (body.attachments) event.attachments = body.attachments;
      if (body.bot_id) {
        event.bot_id = body.bot_id;
        event.bot_profile = body.bot_profile;
      }
      if (body.username) event.username = body.username;
      if (body.icons) event.icons = body.icons;
      return event;
    }
    case 'message_changed':
      return { ...base, type: row.type, ...user, message: row.body ? toSlackMessage(row.body) : undefined };
    case 'message_deleted': {
      const { message_ts, reason } = row.data;
      return { ...base, type: row.type, ...user, deleted_ts: formatTs(message_ts), ...(reason ? { reason } : {}) };
    }
    case 'channel_created': {
      const { name, is_private, kind } = row.data;
      return { ...base, type: row.type, ...user, name, is_private, ...(kind ? { kind } : {}) };
    }
    case 'member_joined_channel': {
      const { inviter } = row.data;
      return { ...base, type: row.type, ...user, ...(inviter ? { inviter } : {}) };
    }
    case 'member_left_channel': {
      const { kicked_by } = row.data;
      return { ...base, type: row.type, ...user, ...(kicked_by ? { kicked_by } : {}) };
    }
    case 'channel_archive':
    case 'channel_unarchive':
      return { ...base, type: row.type, ...user };
    case 'channel_rename':
      return { ...base, type: row.type, ...user, name: row.data.name };
    case 'channel_topic':
      return { ...base, type: row.type, ...user, topic: row.data.topic };
    case 'channel_purpose':
      return { ...base, type: row.type, ...user, purpose: row.data.purpose };
    case 'reaction_added':
    case 'reaction_removed': {
      const { reaction, item_ts, item_user } = row.data;
      return { ...base, type: row.type, ...user, reaction, item: messageItem(row.channel_id, item_ts), item_user };
    }
    case 'file_shared': {
      const { file_id } = row.data;
      return { ...base, type: row.type, ...user, file_id, file: { id: file_id }, user_id: row.user_id ?? '', channel_id: row.channel_id };
    }
    case 'pin_added':
    case 'pin_removed':
      return { ...base, type: row.type, ...user, channel_id: row.channel_id, item: messageItem(row.channel_id, row.data.item_ts) };
  }
}
