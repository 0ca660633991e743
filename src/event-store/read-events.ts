import type { BodyCipher } from '../crypto/body-cipher.js';
import type { Queryable } from '../db/database.js';
import { MESSAGE_COLUMNS, toSlackMessage, type MessageRow } from '../domain/message.js';
import { formatTs } from '../domain/ts.js';
import { formatCursor, type ChannelEvent, type GlobalCursor } from './events.js';

interface EventRow {
  channel_id: string;
  seq: string;
  ts: string;
  type: ChannelEvent['type'];
  user_id: string | null;
  data: Record<string, unknown>;
  client_msg_id: string | null;
  tx_id: string;
  position: string;
  body: MessageRow | null;
}

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
export async function readChannel(db: Queryable, channel: string, afterSeq: number, limit: number, cipher?: BodyCipher): Promise<ChannelEvent[]> {
  const { rows } = await db.query<EventRow>(
    `${SELECT_EVENTS} WHERE e.channel_id = $1 AND e.seq > $2 ORDER BY e.seq LIMIT $3`,
    [channel, afterSeq, limit],
  );
  await cipher?.openRows(rows.map((r) => r.body));
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
  cipher?: BodyCipher,
): Promise<Array<ChannelEvent & { cursor: string }>> {
  const { rows } = await db.query<EventRow>(
    `${SELECT_EVENTS}
      WHERE (e.tx_id, e.position) > ($1::xid8, $2::bigint)
        AND e.tx_id < pg_snapshot_xmin(pg_current_snapshot())
      ORDER BY e.tx_id, e.position LIMIT $3`,
    [cursor.txId, cursor.position, limit],
  );
  await cipher?.openRows(rows.map((r) => r.body));
  return rows.map((row) => ({ ...toChannelEvent(row), cursor: formatCursor({ txId: row.tx_id, position: row.position }) }));
}

function toChannelEvent(row: EventRow): ChannelEvent {
  const event: ChannelEvent = { channel: row.channel_id, seq: Number(row.seq), ts: formatTs(row.ts), type: row.type };
  if (row.user_id) event.user = row.user_id;
  const data = row.data;
  switch (row.type) {
    case 'message': {
      // A deleted or expired message keeps its place in the log as a tombstone without text.
      const body = row.body && !row.body.deleted ? toSlackMessage(row.body) : { text: '', subtype: 'tombstone' };
      event.text = body.text;
      if (data.thread_ts) event.thread_ts = formatTs(data.thread_ts as number);
      if (data.reply_broadcast) event.subtype = 'thread_broadcast';
      if (body.subtype === 'tombstone') event.subtype = 'tombstone';
      if (row.client_msg_id) event.client_msg_id = row.client_msg_id;
      break;
    }
    case 'message_changed':
      event.message = row.body ? toSlackMessage(row.body) : undefined;
      break;
    case 'message_deleted':
      event.deleted_ts = formatTs(data.message_ts as number);
      if (data.reason) event.reason = data.reason; // 'retention' for expiry; absent when a person deleted it
      break;
    default:
      for (const [key, value] of Object.entries(data)) event[key] = value;
  }
  return event;
}
