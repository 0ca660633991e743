import type pg from 'pg';
import { inTransaction } from '../db/database.js';
import type { GlobalCursor } from '../event-store/events.js';

/**
 * The NDJSON line of an event built by PostgreSQL, byte for byte what JSON.stringify makes of the
 * event store's ChannelEvent (same keys, same order, same escaping: to_json of a text escapes as
 * JSON.stringify does), so a replay ships rows with no objects built per event in Node. `line` is
 * null where only TypeScript can build it (an EKM-sealed body to open, link previews, a type this
 * SQL does not know): the caller reads those few through the event store.
 */
export interface LineRow {
  channel: string;
  seq: string;
  /** Microseconds, for the time filters. */
  ts: string;
  type: string;
  /** Global reads: "<tx_id>-<position>". */
  cursor?: string;
  line: string | null;
}

/** `'"<secs>.<6 digits>"'` of a bigint expression of microseconds (formatTs). */
const tsJson = (micros: string) => `('"' || ((${micros}) / 1000000)::text || '.' || lpad(((${micros}) % 1000000)::text, 6, '0') || '"')`;
/** `,"key":<json>` when the jsonb value is there (JSON.stringify drops undefined, keeps null). */
const present = (key: string, json: string) => `COALESCE(',"${key}":' || (${json})::text, '')`;
/** `,"key":<json>` when the jsonb value is truthy in JavaScript (the `...(x ? { x } : {})` spreads). */
const truthy = (key: string, json: string) =>
  `CASE WHEN (${json}) IS NULL OR (${json}) IN ('null'::jsonb, 'false'::jsonb, '0'::jsonb, '""'::jsonb) THEN '' ELSE ',"${key}":' || (${json})::text END`;
const str = (sql: string) => `to_json((${sql})::text)::text`;
/** A uuid as a JSON string: its text is hex digits and dashes, nothing to escape (to_json's cost per call saved). */
const uuid = (sql: string) => `('"' || (${sql})::text || '"')`;

// toSlackMessage (domain/message.ts) of the messages row `m2`, for message_changed.
const SLACK_MESSAGE = `'{"type":"message","user":' || COALESCE(${str('m2.user_id')}, 'null')
  || ',"text":' || CASE WHEN m2.deleted THEN '""' ELSE ${str("COALESCE(m2.text, '')")} END
  || ',"ts":' || ${tsJson('m2.ts')}
  || CASE WHEN m2.client_msg_id IS NULL THEN '' ELSE ',"client_msg_id":' || ${uuid('m2.client_msg_id')} END
  || CASE WHEN m2.thread_ts IS NOT NULL AND m2.thread_ts <> 0
            THEN ',"thread_ts":' || ${tsJson('m2.thread_ts')} || CASE WHEN m2.reply_broadcast THEN ',"subtype":"thread_broadcast"' ELSE '' END
          WHEN m2.reply_count > 0 OR (m2.latest_reply IS NOT NULL AND m2.latest_reply <> 0)
            THEN ',"thread_ts":' || ${tsJson('m2.ts')} || ',"reply_count":' || m2.reply_count::text
                 || CASE WHEN m2.latest_reply IS NOT NULL AND m2.latest_reply <> 0 THEN ',"latest_reply":' || ${tsJson('m2.latest_reply')} ELSE '' END
          ELSE '' END
  || CASE WHEN m2.edited_ts IS NOT NULL AND m2.edited_ts <> 0
          THEN ',"edited":{"user":' || COALESCE(${str('m2.edited_by')}, 'null') || ',"ts":' || ${tsJson('m2.edited_ts')} || '}' ELSE '' END
  || '}'`;

/**
 * A live message row with more than text: link previews, the poster's blocks/attachments/subtype
 * (`rich`) or files. toSlackMessage shapes those; the few such lines are built in TypeScript.
 */
const richBody = (m: string) =>
  `(${m}.seq IS NOT NULL AND NOT ${m}.deleted AND (${m}.rich IS NOT NULL
     OR (jsonb_typeof(${m}.attachments) = 'array' AND jsonb_array_length(${m}.attachments) > 0)
     OR (jsonb_typeof(${m}.files) = 'array' AND jsonb_array_length(${m}.files) > 0)))`;

const item = `',"item":{"type":"message","channel":' || ${str('e.channel_id')} || ',"ts":' || ${tsJson("(e.data->>'item_ts')::bigint")} || '}'`;

// toChannelEvent (event-store/read-events.ts) per type, after the common head and user.
const BY_TYPE = `CASE e.type
  WHEN 'message' THEN
    CASE WHEN m1.body_enc IS NOT NULL OR ${richBody('m1')} THEN NULL ELSE
      ',"text":' || CASE WHEN m1.seq IS NULL OR m1.deleted THEN '""' ELSE ${str("COALESCE(m1.text, '')")} END
      || CASE WHEN e.data->'thread_ts' IS NULL OR e.data->'thread_ts' IN ('null'::jsonb, '0'::jsonb) THEN ''
              ELSE ',"thread_ts":' || ${tsJson("(e.data->>'thread_ts')::bigint")} END
      || CASE WHEN m1.seq IS NULL OR m1.deleted THEN ',"subtype":"tombstone"'
              WHEN e.data->'reply_broadcast' IS NULL OR e.data->'reply_broadcast' IN ('null'::jsonb, 'false'::jsonb) THEN ''
              ELSE ',"subtype":"thread_broadcast"' END
      || CASE WHEN e.client_msg_id IS NULL THEN '' ELSE ',"client_msg_id":' || ${uuid('e.client_msg_id')} END
    END
  WHEN 'message_changed' THEN
    CASE WHEN m2.seq IS NULL THEN ''
         WHEN m2.body_enc IS NOT NULL OR ${richBody('m2')} THEN NULL
         ELSE ',"message":' || ${SLACK_MESSAGE} END
  WHEN 'message_deleted' THEN ',"deleted_ts":' || ${tsJson("(e.data->>'message_ts')::bigint")} || ${truthy('reason', "e.data->'reason'")}
  WHEN 'channel_created' THEN ${present('name', "e.data->'name'")} || ${present('is_private', "e.data->'is_private'")} || ${truthy('kind', "e.data->'kind'")}
  WHEN 'member_joined_channel' THEN ${truthy('inviter', "e.data->'inviter'")}
  WHEN 'member_left_channel' THEN ${truthy('kicked_by', "e.data->'kicked_by'")}
  WHEN 'channel_archive' THEN ''
  WHEN 'channel_unarchive' THEN ''
  WHEN 'channel_rename' THEN ${present('name', "e.data->'name'")}
  WHEN 'channel_topic' THEN ${present('topic', "e.data->'topic'")}
  WHEN 'channel_purpose' THEN ${present('purpose', "e.data->'purpose'")}
  WHEN 'reaction_added' THEN ${present('reaction', "e.data->'reaction'")} || ${item} || ${present('item_user', "e.data->'item_user'")}
  WHEN 'reaction_removed' THEN ${present('reaction', "e.data->'reaction'")} || ${item} || ${present('item_user', "e.data->'item_user'")}
  WHEN 'pin_added' THEN ',"channel_id":' || ${str('e.channel_id')} || ${item}
  WHEN 'pin_removed' THEN ',"channel_id":' || ${str('e.channel_id')} || ${item}
  END`;

// The type unescaped: BY_TYPE knows only plain words, any other type makes the line NULL.
const HEAD = `'{"channel":' || ${str('e.channel_id')} || ',"seq":' || e.seq::text || ',"ts":' || ${tsJson('e.ts')}
  || ',"type":"' || e.type || '"'
  || CASE WHEN COALESCE(e.user_id, '') = '' THEN '' ELSE ',"user":' || ${str('e.user_id')} END`;

// The bodies as read-events joins them: a message its own row, an edit the message it changed.
const FROM = `FROM events e
  LEFT JOIN messages m1 ON e.type = 'message' AND m1.channel_id = e.channel_id AND m1.seq = e.seq
  LEFT JOIN messages m2 ON e.type = 'message_changed' AND m2.channel_id = e.channel_id AND m2.ts = (e.data->>'message_ts')::bigint`;

// Prepared once per connection (named): the statement is long, a replay runs it page after page.
const CHANNEL_LINES = `SELECT e.channel_id AS channel, e.seq, e.ts, e.type, ${HEAD} || (${BY_TYPE}) || '}' AS line
     ${FROM}
    WHERE e.channel_id = $1 AND e.seq > $2 ORDER BY e.seq LIMIT $3`;

// The snapshot's xmin in a sub-select: computed once per statement rather than once per row.
const GLOBAL_LINES = `SELECT e.channel_id AS channel, e.seq, e.ts, e.type, c.cursor,
          ${HEAD} || (${BY_TYPE}) || ',"cursor":"' || c.cursor || '"}' AS line
     ${FROM}, LATERAL (SELECT e.tx_id::text || '-' || e.position::text AS cursor) c
    WHERE e.tx_node = 0 AND (e.tx_id, e.position) > ($1::xid8, $2::bigint)
      AND e.tx_id < (SELECT pg_snapshot_xmin(pg_current_snapshot()))
    ORDER BY e.tx_id, e.position LIMIT $3`;

/** One channel's lines with seq > afterSeq, in seq order. */
export function channelLines(pool: pg.Pool, channel: string, afterSeq: number, limit: number): Promise<LineRow[]> {
  return serialPage(pool, { name: 'replay-channel-lines', text: CHANNEL_LINES, values: [channel, afterSeq, limit] });
}

/** Lines after a single-server global cursor, commit-safe as EventStore.readGlobal (below the snapshot's xmin). */
export function globalLines(pool: pg.Pool, cursor: GlobalCursor, limit: number): Promise<LineRow[]> {
  return serialPage(pool, { name: 'replay-global-lines', text: GLOBAL_LINES, values: [cursor.txId, cursor.position, limit] });
}

/**
 * A page read without parallel workers. The planner gives a page of the whole log a worker, which
 * pays a process start per page and takes the core Node needs meanwhile to write the page before
 * (replay reads the next page while it writes one): pages read in a third more time on 2 cores.
 */
function serialPage(pool: pg.Pool, query: pg.QueryConfig): Promise<LineRow[]> {
  return inTransaction(pool, async (tx) => {
    await tx.query('SET LOCAL max_parallel_workers_per_gather = 0');
    return (await tx.query<LineRow>(query)).rows;
  });
}
