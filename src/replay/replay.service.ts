import { LRUCache } from 'lru-cache';
import type { EventStore } from '../event-store/event-store.js';
import { type ChannelEvent, formatCursor, type GlobalCursor, parseCursor } from '../event-store/events.js';
import { parseTs } from '../domain/ts.js';
import type { ReplayRepository } from './replay.repository.js';

/** What to keep of a stream. Time bounds are inclusive, on the event's ts (microseconds). */
export interface ReplayFilter {
  types?: ReadonlySet<string>;
  oldest?: bigint;
  latest?: bigint;
}

export interface ReplayPage<E> {
  events: E[];
  /** Where to resume after this page: the last event read (kept or filtered out). */
  resume: string;
  /** Events read for this page, before filtering (progress). */
  read: number;
}

export type GlobalReplayEvent = ChannelEvent & { cursor: string };

const PAGE = 1000;
const WORKSPACE_CACHE = 50_000;

/**
 * Streams of events for analysts, page by page: memory holds two pages whatever the range (the
 * one being written and the next one being read). Used by the NDJSON endpoints and the CLI.
 */
export class ReplayService {
  /** A channel's workspace never changes: the lookups of workspace replays are kept, the least recently used dropped. */
  private readonly workspaces: LRUCache<string, string>;

  constructor(
    private readonly store: EventStore,
    private readonly repo: ReplayRepository,
    options: { workspaceCacheSize?: number } = {},
  ) {
    this.workspaces = new LRUCache({ max: options.workspaceCacheSize ?? WORKSPACE_CACHE });
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
  ): AsyncGenerator<ReplayPage<ChannelEvent>> {
    const pageSize = opts.pageSize ?? PAGE;
    let left = opts.limit ?? Infinity;
    let after = afterSeq;
    let pending: Promise<ChannelEvent[]> | undefined = this.store.readChannel(channel, after, pageSize);
    while (pending && left > 0) {
      const read: ChannelEvent[] = await pending;
      if (!read.length) return;
      pending = read.length < pageSize ? undefined : prefetch(this.store.readChannel(channel, read[read.length - 1].seq, pageSize));
      const kept: ChannelEvent[] = [];
      let done = read.length < pageSize;
      for (const event of read) {
        // ts grows with seq in a channel: past `latest`, nothing further can match.
        if (opts.filter?.latest !== undefined && parseTs(event.ts)! > opts.filter.latest) {
          done = true;
          break;
        }
        after = event.seq;
        if (!matches(event, opts.filter)) continue;
        kept.push(event);
        if (--left === 0) break;
      }
      yield { events: kept, resume: String(after), read: read.length };
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
  ): AsyncGenerator<ReplayPage<GlobalReplayEvent>> {
    const pageSize = opts.pageSize ?? PAGE;
    let left = opts.limit ?? Infinity;
    let after = cursor;
    let pending: Promise<GlobalReplayEvent[]> | undefined = this.store.readGlobal(after, pageSize);
    while (pending && left > 0) {
      const read: GlobalReplayEvent[] = await pending;
      if (!read.length) return;
      pending = read.length < pageSize ? undefined : prefetch(this.store.readGlobal(parseCursor(read[read.length - 1].cursor)!, pageSize));
      const workspaces = opts.workspace ? await this.workspacesOf(read) : undefined;
      const kept: GlobalReplayEvent[] = [];
      for (const event of read) {
        after = parseCursor(event.cursor)!;
        if (opts.channel && event.channel !== opts.channel) continue;
        if (workspaces && workspaces.get(event.channel) !== opts.workspace) continue;
        if (!matches(event, opts.filter)) continue;
        kept.push(event);
        if (--left === 0) break;
      }
      yield { events: kept, resume: formatCursor(after), read: read.length };
    }
  }

  /** The workspace of each channel of a page: from the cache, the misses in one query. */
  private async workspacesOf(events: GlobalReplayEvent[]): Promise<Map<string, string>> {
    const page = new Map<string, string>();
    const missing: string[] = [];
    for (const channel of new Set(events.map((e) => e.channel))) {
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

/**
 * The next page is read while the current one is filtered and written, so the database and Node
 * work at the same time (two pages in memory at most). An abandoned read (limit reached, client
 * gone) must not surface as an unhandled rejection; an awaited one still throws.
 */
function prefetch<T>(read: Promise<T>): Promise<T> {
  read.catch(() => {});
  return read;
}

function matches(event: ChannelEvent, filter: ReplayFilter | undefined): boolean {
  if (!filter) return true;
  if (filter.types && !filter.types.has(event.type)) return false;
  if (filter.oldest !== undefined || filter.latest !== undefined) {
    const ts = parseTs(event.ts)!;
    if (filter.oldest !== undefined && ts < filter.oldest) return false;
    if (filter.latest !== undefined && ts > filter.latest) return false;
  }
  return true;
}

/** NDJSON: one event a line; a page is written as one chunk. */
export function toNdjson(events: readonly object[]): string {
  let out = '';
  for (const event of events) out += `${JSON.stringify(event)}\n`;
  return out;
}
