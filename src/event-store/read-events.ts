import type { Queryable } from '../db/database.js';
import type { ChannelEvent } from '../domain/events.js';
import { MESSAGE_COLUMNS, toSlackMessage, type MessageRow } from '../domain/message.js';
import { formatTs } from '../domain/ts.js';
import type { BodyOpener } from './body-opener.js';
import { formatCursor, type GlobalCursor, type StoredData } from './events.js';

interface EventRowBase {
  channel_id: string;
  seq: string;
  ts: string;
  user_id: string | null;
  client_msg_id: string | null;
  tx_id: string;
  position: string;
  body: MessageRow | null;
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
 * Events of every channel after `cursor`, in commit-safe order. Only transactions older than every
 * transaction still running are read (pg_snapshot_xmin), so a writer that commits late can never be
 * skipped by a reader that has already moved past its position.
 */
export async function readGlobal(
  db: Queryable,
  cursor: GlobalCursor,
  limit: number,
  opener?: BodyOpener,
): Promise<Array<ChannelEvent & { cursor: string }>> {
  const { rows } = await db.query<EventRow>(
    `${SELECT_EVENTS}
      WHERE (e.tx_id, e.position) > ($1::xid8, $2::bigint)
        AND e.tx_id < pg_snapshot_xmin(pg_current_snapshot())
      ORDER BY e.tx_id, e.position LIMIT $3`,
    [cursor.txId, cursor.position, limit],
  );
  await opener?.openRows(rows.map((r) => r.body));
  return rows.map((row) => ({ ...toChannelEvent(row), cursor: formatCursor({ txId: row.tx_id, position: row.position }) }));
}

const messageItem = (channel: string, ts: number) => ({ type: 'message' as const, channel, ts: formatTs(ts) });

function toChannelEvent(row: EventRow): ChannelEvent {
  const base = { channel: row.channel_id, seq: Number(row.seq), ts: formatTs(row.ts) };
  const user = row.user_id ? { user: row.user_id } : {};
  switch (row.type) {
    case 'message': {
      // A deleted or expired message keeps its place in the log as a tombstone without text.
      const body = row.body && !row.body.deleted ? toSlackMessage(row.body) : { text: '', subtype: 'tombstone' as const };
      return {
        ...base,
        type: row.type,
        ...user,
        text: body.text,
        ...(row.data.thread_ts ? { thread_ts: formatTs(row.data.thread_ts) } : {}),
        ...(body.subtype === 'tombstone'
          ? { subtype: 'tombstone' as const }
          : row.data.reply_broadcast
            ? { subtype: 'thread_broadcast' as const }
            : body.subtype === 'me_message'
              ? { subtype: 'me_message' as const }
              : {}),
        ...(row.client_msg_id ? { client_msg_id: row.client_msg_id } : {}),
        ...('files' in body && body.files ? { files: body.files, upload: true } : {}),
        // Blocks and attachments travel with the message, as Slack's message event carries them.
        ...('blocks' in body && body.blocks ? { blocks: body.blocks } : {}),
        ...('attachments' in body && body.attachments ? { attachments: body.attachments } : {}),
      };
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
