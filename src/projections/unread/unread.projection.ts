import type { Queryable } from '../../db/database.js';
import { parseTs } from '../../domain/ts.js';
import type { GlobalEvent, Projection } from '../projection.js';
import { parseMentions } from './mentions.js';

/** A full row of unread_messages, built from a `message` event. */
interface MessageRow {
  channel: string;
  ts: string;
  seq: number;
  user: string;
  counts: boolean;
  mentions: string[];
  mentionsChannel: boolean;
  mentionsHere: boolean;
  deleted: boolean;
}

/** A change to a row posted in an earlier batch: new mentions (an edit) or a delete. */
interface RowChange {
  channel: string;
  ts: string;
  mentions: string[];
  mentionsChannel: boolean;
  mentionsHere: boolean;
  deleted: boolean;
}

const NO_MENTIONS = { mentions: [] as string[], mentionsChannel: false, mentionsHere: false };

/**
 * Unread and mention counts: one unread_messages row per posted message, O(1) writes per event
 * whatever the member count. Per-user counts are computed at read time (unread-counts.repository).
 *
 * Mentions are read from the body the event carries. Bodies are joined in when the log is read, so
 * a live projector may see an edit's text at the original `message` event; the `message_changed`
 * event that follows recomputes the same mentions, so live and rebuilt rows agree. A deleted row is
 * normalized (no mentions, not countable) for the same reason: a rebuild reads a deleted or expired
 * message as a tombstone, without its text or its thread_broadcast subtype.
 */
export class UnreadProjection implements Projection {
  readonly name = 'unread';
  readonly tables = ['unread_messages', 'unread_channels'] as const;

  async apply(db: Queryable, events: readonly GlobalEvent[]): Promise<void> {
    // Fold the batch first: one upsert can touch a row only once, and a message edited or deleted
    // in the same batch needs only its final state written.
    const posted = new Map<string, MessageRow>();
    const changed = new Map<string, RowChange>();
    for (const event of events) {
      switch (event.type) {
        case 'message': {
          const ts = micros(event.ts);
          // A message whose body is already gone (deleted, expired) is read back as a tombstone.
          const deleted = event.subtype === 'tombstone';
          const m = parseMentions(deleted ? '' : event.text);
          posted.set(`${event.channel}:${ts}`, {
            channel: event.channel,
            ts,
            seq: event.seq,
            user: event.user ?? '',
            counts: !deleted && (!event.thread_ts || event.subtype === 'thread_broadcast'),
            mentions: m.users,
            mentionsChannel: m.channel,
            mentionsHere: m.here,
            deleted,
          });
          break;
        }
        case 'message_changed': {
          const message = event.message;
          if (!message) break; // body gone: nothing left to count
          const m = parseMentions(message.text);
          this.change(posted, changed, event.channel, micros(message.ts), {
            mentions: m.users,
            mentionsChannel: m.channel,
            mentionsHere: m.here,
            deleted: false,
          });
          break;
        }
        case 'message_deleted':
          this.change(posted, changed, event.channel, micros(event.deleted_ts), { ...NO_MENTIONS, deleted: true });
          break;
        default:
          break;
      }
    }
    if (posted.size || changed.size) await writeRows(db, [...posted.values()], [...changed.values()]);
  }

  private change(
    posted: Map<string, MessageRow>,
    changed: Map<string, RowChange>,
    channel: string,
    ts: string,
    next: Omit<RowChange, 'channel' | 'ts'>,
  ): void {
    const key = `${channel}:${ts}`;
    const row = posted.get(key) ?? changed.get(key);
    if (row) {
      const deleted = row.deleted || next.deleted;
      Object.assign(row, deleted ? { ...NO_MENTIONS, deleted, counts: false } : next);
    } else {
      changed.set(key, { channel, ts, ...next });
    }
  }
}

function micros(ts: string): string {
  const value = parseTs(ts);
  if (value === undefined) throw new Error(`unread projection: bad ts ${ts}`);
  return value.toString();
}

// Mentions travel as comma-joined strings: unnest() cannot take a ragged array of arrays.
const joined = (ids: string[]) => ids.join(',');

/**
 * The batch's new rows (upserted: a rebuild meets rows it wrote before) and its changes to rows of
 * earlier batches, in one statement: the two touch different rows (a change to a row posted in the
 * same batch was folded into it), so neither part needs to see the other's writes. Edits and
 * deletes of earlier rows: a deleted row stays deleted, uncounted, mentioning no one.
 *
 * unread_channels.latest_ts stays the newest countable ts of each channel: a new countable row can
 * only raise it (same statement), an edit keeps countability, and only a delete can lower it.
 */
async function writeRows(db: Queryable, rows: MessageRow[], changes: RowChange[]): Promise<void> {
  await db.query(
    `WITH posted AS (
       INSERT INTO unread_messages (channel_id, ts, seq, user_id, counts_as_unread, mentions, mentions_channel, mentions_here, deleted)
       SELECT v.channel_id, v.ts, v.seq, v.user_id, v.counts, string_to_array(v.mentions, ','), v.mc, v.mh, v.deleted
         FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::boolean[], $6::text[], $7::boolean[], $8::boolean[], $9::boolean[])
              AS v(channel_id, ts, seq, user_id, counts, mentions, mc, mh, deleted)
       ON CONFLICT (channel_id, ts) DO UPDATE SET
         seq = excluded.seq, user_id = excluded.user_id, counts_as_unread = excluded.counts_as_unread,
         mentions = excluded.mentions, mentions_channel = excluded.mentions_channel,
         mentions_here = excluded.mentions_here, deleted = excluded.deleted
       RETURNING 1),
     -- The newest countable row of the batch per channel, if newer than the channel's newest so far.
     newest AS (
       INSERT INTO unread_channels AS h (channel_id, latest_ts)
       SELECT p.channel_id, max(p.ts)
         FROM unnest($1::text[], $2::bigint[], $5::boolean[]) AS p(channel_id, ts, counts)
        WHERE p.counts
        GROUP BY p.channel_id
       ON CONFLICT (channel_id) DO UPDATE SET latest_ts = excluded.latest_ts WHERE h.latest_ts < excluded.latest_ts
       RETURNING 1)
     UPDATE unread_messages u SET
        deleted = u.deleted OR v.deleted,
        counts_as_unread = u.counts_as_unread AND NOT (u.deleted OR v.deleted),
        mentions = CASE WHEN u.deleted OR v.deleted THEN '{}' ELSE string_to_array(v.mentions, ',') END,
        mentions_channel = NOT (u.deleted OR v.deleted) AND v.mc,
        mentions_here = NOT (u.deleted OR v.deleted) AND v.mh
       FROM unnest($10::text[], $11::bigint[], $12::text[], $13::boolean[], $14::boolean[], $15::boolean[])
            AS v(channel_id, ts, mentions, mc, mh, deleted)
      WHERE u.channel_id = v.channel_id AND u.ts = v.ts`,
    [
      rows.map((r) => r.channel),
      rows.map((r) => r.ts),
      rows.map((r) => r.seq),
      rows.map((r) => r.user),
      rows.map((r) => r.counts),
      rows.map((r) => joined(r.mentions)),
      rows.map((r) => r.mentionsChannel),
      rows.map((r) => r.mentionsHere),
      rows.map((r) => r.deleted),
      changes.map((r) => r.channel),
      changes.map((r) => r.ts),
      changes.map((r) => joined(r.mentions)),
      changes.map((r) => r.mentionsChannel),
      changes.map((r) => r.mentionsHere),
      changes.map((r) => r.deleted),
    ],
  );
  // A delete may have taken a channel's newest countable row (so may a tombstone rewriting a row a
  // rebuild met): those channels are counted again from the countable index, one backward probe
  // each, by a second statement that sees the first one's writes. Most batches delete nothing.
  const deletedIn = [...new Set([...rows, ...changes].filter((r) => r.deleted).map((r) => r.channel))];
  if (deletedIn.length) {
    await db.query(
      `UPDATE unread_channels h SET latest_ts = coalesce((SELECT max(r.ts) FROM unread_messages r
                                                          WHERE r.channel_id = h.channel_id AND r.counts_as_unread AND NOT r.deleted), 0)
        WHERE h.channel_id = ANY ($1::text[])`,
      [deletedIn],
    );
  }
}
