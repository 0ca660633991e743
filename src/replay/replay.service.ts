import { LRUCache } from 'lru-cache';
import type { EventStore } from '../event-store/event-store.js';
import { type ChannelEvent, formatCursor, type GlobalCursor, parseCursor } from '../event-store/events.js';
import { parseTs } from '../domain/ts.js';
import type { LineRow } from './replay-lines.js';
import type { ReplayRepository } from './replay.repository.js';

/** What to keep of a stream. Time bounds are inclusive, on the event's ts (microseconds). */
export interface ReplayFilter {
  types?: ReadonlySet<string>;
  oldest?: bigint;
  latest?: bigint;
}

export interface ReplayPage {
  /** The kept events as NDJSON, one line each ('' when the page kept none). */
  ndjson: string;
  /** Events kept (written) in this page. */
  kept: number;
  /** Where to resume after this page: the last event read (kept or filtered out). */
  resume: string;
  /** Events read for this page, before filtering (progress). */
  read: number;
}

export type GlobalReplayEvent = ChannelEvent & { cursor: string };

const PAGE = 1000;
/** Lines built by PostgreSQL are small strings: larger pages, fewer round trips, still a few MB. */
const LINE_PAGE = 5000;
const WORKSPACE_CACHE = 50_000;

/**
 * Streams of events for analysts, page by page: memory holds two pages whatever the range (the
 * one being written and the next one being read). Used by the NDJSON endpoints and the CLI.
 * PostgreSQL builds the lines (replay-lines.ts); the event store's reads build the few it cannot
 * (EKM bodies to open, link previews) and every line on Citus (`legacy`: the same bytes, slower).
 */
export class ReplayService {
  /** A channel's workspace never changes: the lookups of workspace replays are kept, the least recently used dropped. */
  private readonly workspaces: LRUCache<string, string>;
  private readonly legacy: boolean;

  constructor(
    private readonly store: EventStore,
    private readonly repo: ReplayRepository,
    options: { workspaceCacheSize?: number; legacy?: boolean } = {},
  ) {
    this.workspaces = new LRUCache({ max: options.workspaceCacheSize ?? WORKSPACE_CACHE });
    this.legacy = options.legacy ?? false;
  }

  /** The workspace a channel belongs to; undefined when there is no such channel. */
  channelWorkspace(channel: string): Promise<string | undefined> {
    return this.repo.channelWorkspace(channel);
  }

  /** One channel's events with seq > afterSeq, in seq order; `resume` is a seq. */
  async *channel(
    channel: string,
    afterSeq: number,
    opts: { limit?: number; filter?: ReplayFilter; pageSize?: number } = {},
  ): AsyncGenerator<ReplayPage> {
    const legacy = this.legacy || (await this.store.clock.distributed());
    const pageSize = opts.pageSize ?? (legacy ? PAGE : LINE_PAGE);
    const filter = opts.filter;
    let left = opts.limit ?? Infinity;
    let after = String(afterSeq);
    const readPage = (from: number) => (legacy ? this.legacyChannel(channel, from, pageSize) : this.channelLines(channel, from, pageSize));
    let pending: Promise<LineRow[]> | undefined = readPage(afterSeq);
    while (pending && left > 0) {
      const read: LineRow[] = await pending;
      if (!read.length) return;
      pending = read.length < pageSize ? undefined : prefetch(readPage(Number(read[read.length - 1].seq)));
      let ndjson = '';
      let kept = 0;
      let done = read.length < pageSize;
      for (const row of read) {
        // ts grows with seq in a channel: past `latest`, nothing further can match.
        if (filter?.latest !== undefined && BigInt(row.ts) > filter.latest) {
          done = true;
          break;
        }
        after = row.seq;
        if (!matches(row, filter)) continue;
        ndjson += `${row.line}\n`;
        kept++;
        if (--left === 0) break;
      }
      const page = { ndjson, kept, resume: after, read: read.length };
      read.length = 0; // see global()
      yield page;
      if (done) return;
    }
  }

  /**
   * Events of every channel after `cursor`, in global-cursor order (commit-safe: read below every
   * open transaction), optionally limited to a workspace or channel; `resume` is a global cursor.
   */
  async *global(
    cursor: GlobalCursor,
    opts: { workspace?: string; channel?: string; limit?: number; filter?: ReplayFilter; pageSize?: number } = {},
  ): AsyncGenerator<ReplayPage> {
    const legacy = this.legacy || (await this.store.clock.distributed());
    const pageSize = opts.pageSize ?? (legacy ? PAGE : LINE_PAGE);
    let left = opts.limit ?? Infinity;
    let after = formatCursor(cursor);
    const readPage = (from: GlobalCursor) => (legacy ? this.legacyGlobal(from, pageSize) : this.globalLines(from, pageSize));
    let pending: Promise<LineRow[]> | undefined = readPage(cursor);
    while (pending && left > 0) {
      const read: LineRow[] = await pending;
      if (!read.length) return;
      pending = read.length < pageSize ? undefined : prefetch(readPage(parseCursor(read[read.length - 1].cursor!)!));
      const workspaces = opts.workspace ? await this.workspacesOf(read) : undefined;
      let ndjson = '';
      let kept = 0;
      for (const row of read) {
        after = row.cursor!;
        if (opts.channel && row.channel !== opts.channel) continue;
        if (workspaces && workspaces.get(row.channel) !== opts.workspace) continue;
        if (!matches(row, opts.filter)) continue;
        ndjson += `${row.line}\n`;
        kept++;
        if (--left === 0) break;
      }
      const page = { ndjson, kept, resume: after, read: read.length };
      // Emptied: the generator keeps the array across the yield, and its rows, held while the page is
      // written and the next one read, were copied by young-generation collections and then
      // promoted: GC took over a quarter of the app's CPU in a whole-log replay, half as much since.
      read.length = 0;
      yield page;
    }
  }

  private async channelLines(channel: string, afterSeq: number, limit: number): Promise<LineRow[]> {
    return this.completed(await this.repo.channelLines(channel, afterSeq, limit));
  }

  private async globalLines(cursor: GlobalCursor, limit: number): Promise<LineRow[]> {
    return this.completed(await this.repo.globalLines(cursor, limit));
  }

  /** The lines SQL left out, from the event store's reads (which open EKM bodies): one read per channel of the page. */
  private async completed(rows: LineRow[]): Promise<LineRow[]> {
    const missing = new Map<string, LineRow[]>();
    for (const row of rows) if (row.line === null) missing.set(row.channel, [...(missing.get(row.channel) ?? []), row]);
    for (const [channel, list] of missing) {
      const first = Number(list[0].seq);
      const events = await this.store.readChannel(channel, first - 1, Number(list[list.length - 1].seq) - first + 1);
      const bySeq = new Map(events.map((e) => [e.seq, e]));
      for (const row of list) {
        const event = bySeq.get(Number(row.seq));
        row.line = JSON.stringify(row.cursor === undefined ? event : { ...event, cursor: row.cursor });
      }
    }
    return rows;
  }

  private async legacyChannel(channel: string, afterSeq: number, limit: number): Promise<LineRow[]> {
    return (await this.store.readChannel(channel, afterSeq, limit)).map((e) => legacyRow(e));
  }

  private async legacyGlobal(cursor: GlobalCursor, limit: number): Promise<LineRow[]> {
    return (await this.store.readGlobal(cursor, limit)).map((e) => legacyRow(e, e.cursor));
  }

  /** The workspace of each channel of a page: from the cache, the misses in one query. */
  private async workspacesOf(rows: LineRow[]): Promise<Map<string, string>> {
    const page = new Map<string, string>();
    const missing: string[] = [];
    for (const channel of new Set(rows.map((e) => e.channel))) {
      const workspace = this.workspaces.get(channel);
      if (workspace) page.set(channel, workspace);
      else missing.push(channel);
    }
    if (missing.length) {
      for (const [channel, workspace] of await this.repo.workspacesOf(missing)) {
        page.set(channel, workspace);
        this.workspaces.set(channel, workspace);
      }
    }
    return page;
  }
}

/** A line of the event store's event, as replay wrote every line before PostgreSQL built them. */
function legacyRow(event: ChannelEvent, cursor?: string): LineRow {
  return {
    channel: event.channel,
    seq: String(event.seq),
    ts: String(parseTs(event.ts)),
    type: event.type,
    cursor,
    line: JSON.stringify(cursor === undefined ? event : { ...event, cursor }),
  };
}

/**
 * The next page is read while the current one is filtered and written, so the database and Node
 * work at the same time (two pages in memory at most). An abandoned read (limit reached, client
 * gone) must not surface as an unhandled rejection; an awaited one still throws.
 */
function prefetch<T>(read: Promise<T>): Promise<T> {
  read.catch(() => {});
  return read;
}

function matches(row: LineRow, filter: ReplayFilter | undefined): boolean {
  if (!filter) return true;
  if (filter.types && !filter.types.has(row.type)) return false;
  if (filter.oldest !== undefined || filter.latest !== undefined) {
    const ts = BigInt(row.ts);
    if (filter.oldest !== undefined && ts < filter.oldest) return false;
    if (filter.latest !== undefined && ts > filter.latest) return false;
  }
  return true;
}
