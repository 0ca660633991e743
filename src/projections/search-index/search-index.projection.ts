import type { Queryable } from '../../db/database.js';
import { EKM_DENIED_TEXT } from '../../domain/message.js';
import { hasLink, searchWords, tsvectorLiteral } from '../../domain/search-words.js';
import { tsMicros } from '../../domain/ts.js';
import { type BlindKey, SearchKeyUnavailable } from '../../crypto/search-keys.js';
import type { GlobalEvent, Projection } from '../projection.js';
import { searchableText } from './searchable-text.js';

/** Where the projection gets each workspace's blind-index key (undefined: plain words). */
export interface BlindKeySource {
  current(workspace: string, fresh?: boolean): Promise<BlindKey | undefined>;
}

/** Channels whose workspace the projection remembers (it starts over past this). */
const MAX_CACHED_CHANNELS = 100_000;

/** The final state of one message in a batch: indexed text, or gone. */
type Entry =
  | { kind: 'index'; channel: string; ts: string; user: string; threadTs: string | null; text: string; posted: boolean }
  | { kind: 'remove'; channel: string; ts: string };

export interface IndexRow {
  channel: string;
  ts: string;
  workspace: string;
  user: string;
  threadTs: string | null;
  hasLink: boolean;
  keyVersion: number | null;
  tokens: string;
}

/**
 * The search index: a row per live message in search_messages, its words as a tsvector (GIN), made
 * from the log by the projector, never on the post's commit path. Posts index, edits re-index,
 * deletes and retention (a `message_deleted` event) remove. In an EKM workspace every word is a
 * blind token (HMAC under the workspace's search key), so no plaintext word is stored.
 *
 * Bodies are joined in when the log is read (as for unread), so a `message` event may carry an
 * edited text or arrive as a tombstone; the last event of a message decides its row either way.
 */
export class SearchIndexProjection implements Projection {
  readonly name = 'search-index';
  readonly tables = ['search_messages'] as const;

  /** Each channel's workspace, which never changes: a batch of known channels asks nothing. */
  private readonly workspaceOf = new Map<string, string>();

  constructor(private readonly keys: BlindKeySource) {}

  private async workspacesOf(db: Queryable, channels: string[]): Promise<Map<string, string>> {
    const unknown = channels.filter((c) => !this.workspaceOf.has(c));
    if (unknown.length) {
      const { rows } = await db.query<{ id: string; workspace_id: string }>('SELECT id, workspace_id FROM channels WHERE id = ANY($1)', [
        unknown,
      ]);
      if (this.workspaceOf.size + rows.length > MAX_CACHED_CHANNELS) this.workspaceOf.clear();
      for (const r of rows) this.workspaceOf.set(r.id, r.workspace_id);
    }
    const out = new Map<string, string>();
    for (const c of channels) {
      const workspace = this.workspaceOf.get(c);
      if (workspace !== undefined) out.set(c, workspace);
    }
    return out;
  }

  async apply(db: Queryable, events: readonly GlobalEvent[]): Promise<void> {
    // Fold the batch: only each message's final state is written.
    const entries = new Map<string, Entry>();
    for (const event of events) {
      switch (event.type) {
        case 'message': {
          const ts = micros(event.ts);
          const key = `${event.channel}:${ts}`;
          if (event.subtype === 'tombstone' || deniedText(event.text)) {
            // A body gone (deleted, expired) is not searchable; one EKM-denied now is left as indexed.
            if (event.subtype === 'tombstone') entries.set(key, { kind: 'remove', channel: event.channel, ts });
            break;
          }
          entries.set(key, {
            kind: 'index',
            channel: event.channel,
            ts,
            user: event.user ?? '',
            threadTs: event.thread_ts ? micros(event.thread_ts) : null,
            text: searchableText(event),
            posted: true,
          });
          break;
        }
        case 'message_changed': {
          const message = event.message;
          if (!message || message.subtype === 'ekm_access_denied') break;
          const ts = micros(message.ts);
          const key = `${event.channel}:${ts}`;
          const previous = entries.get(key);
          if (previous?.kind === 'remove') break;
          entries.set(key, {
            kind: 'index',
            channel: event.channel,
            ts,
            user: message.user,
            threadTs: message.thread_ts && message.thread_ts !== message.ts ? micros(message.thread_ts) : null,
            text: searchableText(message),
            // An edit of a message posted earlier only updates its row: it never brings back a removed one.
            posted: previous?.kind === 'index' && previous.posted,
          });
          break;
        }
        case 'message_deleted': {
          const ts = micros(event.deleted_ts);
          entries.set(`${event.channel}:${ts}`, { kind: 'remove', channel: event.channel, ts });
          break;
        }
        default:
          break;
      }
    }
    if (!entries.size) return;
    const all = [...entries.values()];
    const removed = all.filter((e) => e.kind === 'remove');
    if (removed.length) await removeRows(db, removed);
    const indexed = all.filter((e): e is Extract<Entry, { kind: 'index' }> => e.kind === 'index');
    if (!indexed.length) return;
    const workspaces = await this.workspacesOf(db, [...new Set(indexed.map((e) => e.channel))]);
    // Keys from the settings cache: the write leaves out the rows of a workspace whose EKM settings
    // moved on (enabled, or rotated to a newer key version) and names it; only those are made again,
    // with settings read fresh, so a batch asks for no settings at all in the usual case.
    let stale = await this.write(db, indexed, workspaces, new Set(workspaces.values()), false);
    if (stale.length) stale = await this.write(db, indexed, workspaces, new Set(stale), true);
    if (stale.length)
      throw new Error(`search-index projection: the EKM settings of ${stale.join(', ')} keep changing; the batch is retried`);
  }

  /** Writes the rows of the given workspaces' messages; returns the workspaces left out (settings moved on). */
  private async write(
    db: Queryable,
    indexed: ReadonlyArray<Extract<Entry, { kind: 'index' }>>,
    workspaces: ReadonlyMap<string, string>,
    only: ReadonlySet<string>,
    fresh: boolean,
  ): Promise<string[]> {
    const keys = new Map<string, BlindKey | undefined>();
    const unavailable = new Set<string>();
    for (const workspace of only) {
      try {
        keys.set(workspace, await this.keys.current(workspace, fresh));
      } catch (err) {
        // A workspace whose key its provider refuses (revoked in the KMS) must not stall every
        // other workspace's index: its messages of this batch stay unindexed (docs/search.md).
        if (!(err instanceof SearchKeyUnavailable)) throw err;
        unavailable.add(workspace);
      }
    }
    const posted: IndexRow[] = [];
    const edited: IndexRow[] = [];
    for (const e of indexed) {
      const workspace = workspaces.get(e.channel);
      if (!workspace || !only.has(workspace) || unavailable.has(workspace)) continue; // no workspace any more, or no usable key
      (e.posted ? posted : edited).push(indexRow(keys.get(workspace), workspace, e));
    }
    const stale = new Set([...(await upsertRows(db, posted, true)), ...(await upsertRows(db, edited, false))]);
    return [...stale];
  }
}

/** An index row for a message's text: plain words, or blind tokens under the workspace's current key. */
export function indexRow(
  key: BlindKey | undefined,
  workspace: string,
  m: { channel: string; ts: string; user: string; threadTs: string | null; text: string },
): IndexRow {
  const words = searchWords(m.text);
  return {
    channel: m.channel,
    ts: m.ts,
    workspace,
    user: m.user,
    threadTs: m.threadTs,
    hasLink: hasLink(m.text),
    keyVersion: key?.version ?? null,
    tokens: tsvectorLiteral(words, key ? (w) => key.token(w) : undefined),
  };
}

/** What an EKM body reads as when its key is revoked: never indexed as words. */
const deniedText = (text: string) => text === EKM_DENIED_TEXT;

function micros(ts: string): string {
  const value = tsMicros(ts);
  if (value === undefined) throw new Error(`search-index projection: bad ts ${ts}`);
  return value;
}

async function removeRows(db: Queryable, rows: Array<{ channel: string; ts: string }>): Promise<void> {
  await db.query(
    `DELETE FROM search_messages s USING unnest($1::text[], $2::bigint[]) AS v(channel_id, ts)
      WHERE s.channel_id = v.channel_id AND s.ts = v.ts`,
    [rows.map((r) => r.channel), rows.map((r) => r.ts)],
  );
}

/**
 * `insert`: rows of messages posted in this batch (created or replaced); otherwise only existing rows
 * change. Rows made under settings that moved on are left out and their workspaces returned: plain
 * words in a workspace that uses EKM now, or blind tokens under a key version older than its
 * current one (a rotation); the caller makes them again with fresh settings.
 */
export async function upsertRows(db: Queryable, rows: IndexRow[], insert: boolean): Promise<string[]> {
  if (!rows.length) return [];
  const params = [
    rows.map((r) => r.channel),
    rows.map((r) => r.ts),
    rows.map((r) => r.workspace),
    rows.map((r) => r.user),
    rows.map((r) => r.threadTs),
    rows.map((r) => r.hasLink),
    rows.map((r) => r.keyVersion),
    rows.map((r) => r.tokens),
  ];
  const values = `v AS (
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::boolean[], $7::int[], $8::text[])
                    AS v(channel_id, ts, workspace_id, user_id, thread_ts, has_link, key_version, tokens)),
       stale AS (
         SELECT DISTINCT v.workspace_id FROM v JOIN ekm_workspaces w ON w.workspace_id = v.workspace_id
          WHERE v.key_version IS NULL OR v.key_version < w.key_version),
       fit AS (SELECT * FROM v WHERE v.workspace_id NOT IN (SELECT workspace_id FROM stale))`;
  const { rows: stale } = await db.query<{ workspace_id: string }>(
    insert
      ? `WITH ${values},
         written AS (
           INSERT INTO search_messages (channel_id, ts, workspace_id, user_id, thread_ts, has_link, key_version, tokens)
           SELECT v.channel_id, v.ts, v.workspace_id, v.user_id, v.thread_ts, v.has_link, v.key_version, v.tokens::tsvector FROM fit v
           ON CONFLICT (channel_id, ts) DO UPDATE SET
             workspace_id = excluded.workspace_id, user_id = excluded.user_id, thread_ts = excluded.thread_ts,
             has_link = excluded.has_link, key_version = excluded.key_version, tokens = excluded.tokens
           RETURNING 1)
         SELECT workspace_id FROM stale`
      : `WITH ${values},
         written AS (
           UPDATE search_messages s SET has_link = v.has_link, key_version = v.key_version, tokens = v.tokens::tsvector
             FROM fit v WHERE s.channel_id = v.channel_id AND s.ts = v.ts
           RETURNING 1)
         SELECT workspace_id FROM stale`,
    params,
  );
  return stale.map((r) => r.workspace_id);
}
