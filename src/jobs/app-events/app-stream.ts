import type { EventStore } from '../../event-store/event-store.js';
import { type GlobalCursor, parseCursor } from '../../event-store/events.js';
import type { AddressPolicy } from '../unfurl/address-policy.js';
import type { AppRow } from './apps.repository.js';
import { type AppView, type ChannelFacts, eventCallback, eventIdFor, slackEventsFor } from './event-payloads.js';
import { DeliveryFailed, type DeliveryFailure, signedPost } from './signed-post.js';
import type { SocketModeHub } from './socket-mode-hub.js';

/** What one app's stream needs from the service that runs it (shared caches, the database, settings). */
export interface StreamContext {
  store: EventStore;
  /** The global log after `cursor` (streams at the same position share one query). */
  readGlobal(cursor: GlobalCursor, limit: number): ReturnType<EventStore['readGlobal']>;
  hub: SocketModeHub;
  policy: AddressPolicy;
  httpTimeoutMs: number;
  retryBackoffMs: number;
  ackTimeoutMs: number;
  channelFacts(ids: string[]): Promise<Map<string, ChannelFacts>>;
  botIds(users: string[]): Promise<Map<string, string>>;
  memberships(user: string): Promise<string[]>;
  saveCheckpoint(app: string, cursor: GlobalCursor): Promise<void>;
  pause(app: string, reason: string): Promise<void>;
  onDelivered?(app: string, eventId: string): void;
  onError(app: string, err: unknown): void;
}

/** A callback to send, or only a place the checkpoint may move to (events the app does not get). */
interface Item {
  callback?: { eventId: string; body: Record<string, unknown> };
  /** Set on the last item of a log event: the checkpoint may move here once it is delivered. */
  cursor?: string;
}

/** An item sent over Socket Mode and not yet acknowledged. */
interface Slot {
  item: Item;
  acked: boolean;
  envelopeId?: string;
  connId?: string;
  sentAt: number;
  attempt: number;
}

const READ_BATCH = 500;
const SOCKET_WINDOW = 100;
const MAX_ATTEMPTS = 4; // the first try and Slack's three retries

export const checkpointName = (app: string) => `app:${app}`;

/**
 * One app's delivery stream: reads the global log after the app's checkpoint, keeps the events
 * its bot may see (membership as of that point of the stream), and delivers them in order over
 * Socket Mode (when the app has connections here) or signed HTTP to its request URL. The checkpoint
 * moves only past delivered (acknowledged) events, so delivery is at-least-once with stable
 * event ids; it is saved a few times a second, and a restart resends at most those last events.
 */
export class AppStream {
  private cursor: GlobalCursor | undefined;
  private committed: string | undefined;
  private saved: string | undefined;
  private members: Set<string> | undefined;
  private readonly queue: Item[] = [];
  private readonly window: Slot[] = [];
  private running = false;
  private again = false;
  private stopped = false;
  private httpFailure: { attempt: number; reason: DeliveryFailure; at: number } | undefined;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private app: AppRow,
    private readonly ctx: StreamContext,
    /** Event ids a previous stream of this app sent without an ack, and how often: their next send is a retry. */
    private readonly sentBefore = new Map<string, number>(),
  ) {}

  /** What this stream sent and saw no ack for (handed to the app's next stream on this node). */
  unacknowledged(): Map<string, number> {
    const out = new Map(this.sentBefore);
    for (const slot of this.window) if (!slot.acked && slot.item.callback) out.set(slot.item.callback.eventId, slot.attempt + 1);
    return out;
  }

  get id(): string {
    return this.app.id;
  }

  update(app: AppRow): void {
    const resumed = this.app.paused_at && !app.paused_at;
    this.app = app;
    if (resumed) this.httpFailure = undefined;
    this.wake();
  }

  /** Runs a pass now, or right after the running one. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.pass()
      .catch((err: unknown) => this.ctx.onError(this.app.id, err))
      .finally(() => {
        this.running = false;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** The checkpoint to save, when it moved since the last save. */
  pendingCheckpoint(): string | undefined {
    return this.committed !== this.saved ? this.committed : undefined;
  }

  /** The service saved `cursor` (with other streams' checkpoints, in one statement). */
  markSaved(cursor: string): void {
    this.saved = cursor;
  }

  /** Saves the checkpoint if it moved (at stop). */
  async flush(): Promise<void> {
    if (this.committed && this.committed !== this.saved) {
      const c = this.committed;
      await this.ctx.saveCheckpoint(this.app.id, parseCursor(c)!);
      this.saved = c;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.flush();
  }

  /** A connection of this app closed: what it had not acknowledged goes out again at once. */
  connectionClosed(connId: string): void {
    for (const slot of this.window) if (!slot.acked && slot.connId === connId) slot.envelopeId = undefined;
    this.wake();
  }

  private async pass(): Promise<void> {
    if (this.app.paused_at || this.app.uninstalled_at) return;
    const sockets = this.ctx.hub.connections(this.app.id).length > 0;
    if (!sockets && !this.app.request_url && !this.window.length) return;
    await this.fill();
    if (sockets || this.window.length) this.deliverOverSockets();
    else if (this.app.request_url) await this.deliverOverHttp();
  }

  /** Reads the log after what is queued, turning its events into this app's items. */
  private async fill(): Promise<void> {
    if (this.queue.length >= READ_BATCH) return;
    this.cursor ??= await this.ctx.store.loadCheckpoint(checkpointName(this.app.id));
    this.members ??= new Set(await this.ctx.memberships(this.app.bot_user_id));
    const events = await this.ctx.readGlobal(this.cursor, READ_BATCH);
    if (!events.length) return;
    const facts = await this.ctx.channelFacts([...new Set(events.map((e) => e.channel))]);
    const authors = [...new Set(events.flatMap((e) => (e.type === 'message' && e.user ? [e.user] : [])))];
    const bots = authors.length ? await this.ctx.botIds(authors) : new Map<string, string>();
    const view: AppView = {
      id: this.app.id,
      workspace: this.app.workspace_id,
      botUserId: this.app.bot_user_id,
      subscriptions: new Set(this.app.event_subscriptions),
    };
    for (const event of events) {
      const f = facts.get(event.channel);
      const bot = event.user === this.app.bot_user_id;
      // The bot's own joins count from their event on, its leaves after theirs (Slack sends both).
      if (bot && event.type === 'member_joined_channel') this.members.add(event.channel);
      const out = f ? slackEventsFor(event, view, f, this.members.has(event.channel), (u) => (u ? bots.get(u) : undefined)) : [];
      if (bot && event.type === 'member_left_channel') this.members.delete(event.channel);
      out.forEach((e, i) => {
        const eventId = eventIdFor(event, e.suffix);
        this.queue.push({
          callback: { eventId, body: eventCallback(view, eventId, e.event) },
          cursor: i === out.length - 1 ? event.cursor : undefined,
        });
      });
      if (!out.length) {
        // Nothing for this app: only the checkpoint moves (one marker stands for a run of them).
        const last = this.queue[this.queue.length - 1];
        if (last && !last.callback) last.cursor = event.cursor;
        else this.queue.push({ cursor: event.cursor });
      }
      this.cursor = parseCursor(event.cursor)!;
    }
    if (events.length === READ_BATCH) this.again = true;
  }

  /** In order, one at a time; three retries with backoff, then the app is paused with the reason. */
  private async deliverOverHttp(): Promise<void> {
    while (this.queue.length && !this.stopped && !this.app.paused_at && this.app.request_url) {
      if (this.ctx.hub.connections(this.app.id).length) return this.wake(); // Socket Mode took over
      const item = this.queue[0];
      if (item.callback) {
        if (this.httpFailure) {
          const wait = this.httpFailure.at + this.ctx.retryBackoffMs * 2 ** (this.httpFailure.attempt - 1) - Date.now();
          if (wait > 0) {
            clearTimeout(this.retryTimer);
            this.retryTimer = setTimeout(() => this.wake(), wait);
            return;
          }
        }
        try {
          await signedPost({
            url: this.app.request_url,
            body: JSON.stringify(item.callback.body),
            contentType: 'application/json',
            secret: this.app.signing_secret,
            policy: this.ctx.policy,
            timeoutMs: this.ctx.httpTimeoutMs,
            retry: this.httpFailure && { num: this.httpFailure.attempt, reason: this.httpFailure.reason },
          });
        } catch (err) {
          const failure = err instanceof DeliveryFailed ? err : new DeliveryFailed('unknown_error');
          const attempt = (this.httpFailure?.attempt ?? 0) + 1;
          if (attempt >= MAX_ATTEMPTS) {
            const reason = `${failure.message} on ${MAX_ATTEMPTS} attempts to deliver ${item.callback.eventId}`;
            this.httpFailure = undefined;
            this.app = { ...this.app, paused_at: new Date(), paused_reason: reason };
            await this.ctx.pause(this.app.id, reason);
            return;
          }
          this.httpFailure = { attempt, reason: failure.reason, at: Date.now() };
          continue;
        }
        this.httpFailure = undefined;
        this.ctx.onDelivered?.(this.app.id, item.callback.eventId);
      }
      this.queue.shift();
      if (item.cursor) this.committed = item.cursor;
      if (!this.queue.length) await this.fill();
    }
  }

  /**
   * Up to SOCKET_WINDOW envelopes unacknowledged, spread over the app's connections; the
   * checkpoint moves over the acknowledged prefix. An envelope not acknowledged in time, or whose
   * connection closed, is sent again (same event_id, new envelope_id, retry_attempt + 1).
   */
  private deliverOverSockets(): void {
    const now = Date.now();
    for (const slot of this.window) {
      if (slot.acked) continue;
      const late = slot.envelopeId !== undefined && now - slot.sentAt >= this.ctx.ackTimeoutMs;
      if (slot.envelopeId === undefined || late) {
        if (slot.envelopeId) this.ctx.hub.abandon(slot.envelopeId);
        if (!this.sendSlot(slot, slot.attempt + 1, late ? 'timeout' : 'connection_closed')) break;
      }
    }
    while (this.window.length < SOCKET_WINDOW && this.queue.length) {
      const item = this.queue[0];
      if (!item.callback) {
        this.queue.shift();
        if (!this.window.length && item.cursor) this.committed = item.cursor;
        else this.window.push({ item, acked: true, sentAt: now, attempt: 0 });
        continue;
      }
      const slot: Slot = { item, acked: false, sentAt: now, attempt: 0 };
      const before = this.sentBefore.get(item.callback.eventId);
      if (!this.sendSlot(slot, before ?? 0, before ? 'connection_closed' : '')) break;
      this.sentBefore.delete(item.callback.eventId);
      this.queue.shift();
      this.window.push(slot);
    }
    this.advance();
    if (this.window.some((s) => !s.acked)) {
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => this.wake(), this.ctx.ackTimeoutMs);
    }
  }

  private sendSlot(slot: Slot, attempt: number, reason = ''): boolean {
    const sent = this.ctx.hub.send(
      this.app.id,
      'events_api',
      slot.item.callback!.body,
      () => this.acked(slot),
      attempt ? { attempt, reason } : undefined,
    );
    if (!sent) {
      slot.envelopeId = undefined;
      return false;
    }
    slot.envelopeId = sent.envelopeId;
    slot.connId = sent.conn.id;
    slot.sentAt = Date.now();
    slot.attempt = attempt;
    return true;
  }

  private acked(slot: Slot): void {
    if (slot.acked) return;
    slot.acked = true;
    this.ctx.onDelivered?.(this.app.id, slot.item.callback!.eventId);
    this.advance();
    if (this.queue.length || this.window.length < SOCKET_WINDOW) this.wake();
  }

  private advance(): void {
    while (this.window.length && this.window[0].acked) {
      const done = this.window.shift()!;
      if (done.item.cursor) this.committed = done.item.cursor;
    }
  }
}
