import type { Message } from './types';

/**
 * One channel's messages in ts order, from history pages and live events merged by ts (so a
 * message seen twice — history and socket, ack and event — is kept once). Thread replies that
 * were not also sent to the channel live only in `threads` of the open thread.
 */
export class ChannelMessages {
  list: Message[] = [];
  private byTs = new Map<string, Message>();
  /** '' once the oldest message is loaded; null before the first history page. */
  olderCursor: string | null = null;
  /** Messages older than this ts may have gaps until the next history page: not shown yet. */
  oldestLoaded: string | null = null;
  loading = false;
  /** Replies of threads opened here, oldest first, by parent ts. */
  threads = new Map<string, Message[]>();
  /** Bumped on every change, so views know to redraw. */
  version = 0;

  get(ts: string): Message | undefined {
    return this.byTs.get(ts);
  }

  /** What the pane shows: everything from the oldest loaded history page on. */
  visible(): Message[] {
    if (this.olderCursor === '' || this.oldestLoaded === null) return this.olderCursor === '' ? this.list : [];
    const from = this.indexOf(this.oldestLoaded);
    return from === 0 ? this.list : this.list.slice(from);
  }

  /** Adds or replaces by ts; returns true when it was new. */
  upsert(msg: Message): boolean {
    const had = this.byTs.get(msg.ts);
    this.version++;
    if (had) {
      Object.assign(had, msg);
      return false;
    }
    this.byTs.set(msg.ts, msg);
    const last = this.list[this.list.length - 1];
    if (!last || last.ts < msg.ts) this.list.push(msg);
    else this.list.splice(this.indexOf(msg.ts), 0, msg);
    return true;
  }

  remove(ts: string): void {
    if (!this.byTs.delete(ts)) return;
    this.list.splice(this.indexOf(ts), 1);
    this.version++;
  }

  /** A history page (newest first, as conversations.history returns it). */
  addPage(messages: Message[], nextCursor: string): void {
    for (const m of messages) if (!m.thread_ts || m.thread_ts === m.ts || m.subtype === 'thread_broadcast') this.upsert({ ...m });
    const oldest = messages[messages.length - 1]?.ts;
    if (oldest && (this.oldestLoaded === null || oldest < this.oldestLoaded)) this.oldestLoaded = oldest;
    this.olderCursor = nextCursor;
    this.version++;
  }

  /** A reply (live or from conversations.replies), into its open thread and the parent's count. */
  addReply(reply: Message, live: boolean): void {
    const parentTs = reply.thread_ts!;
    const thread = this.threads.get(parentTs);
    let isNew = true;
    if (thread) {
      const at = thread.findIndex((r) => r.ts >= reply.ts);
      if (at >= 0 && thread[at].ts === reply.ts) {
        thread[at] = { ...thread[at], ...reply };
        isNew = false;
      } else if (at < 0) thread.push(reply);
      else thread.splice(at, 0, reply);
    }
    const parent = this.byTs.get(parentTs);
    // A history page's count already holds replies up to latest_reply (a replayed backlog may repeat them).
    if (live && isNew && parent && !(parent.latest_reply && reply.ts <= parent.latest_reply)) {
      parent.reply_count = (parent.reply_count ?? 0) + 1;
      parent.latest_reply = reply.ts;
    }
    this.version++;
  }

  /** First index whose ts is >= ts. */
  private indexOf(ts: string): number {
    let lo = 0;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.list[mid].ts < ts) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
