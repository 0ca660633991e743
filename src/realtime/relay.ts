import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type pg from 'pg';
import pgListen, { type Subscriber } from 'pg-listen';
import { CONFIG, type Config } from '../config/config.js';
import { createPool } from '../db/database.js';
import { EventStore } from '../event-store/event-store.js';
import type { ChannelEvent } from '../event-store/events.js';
import { EVENTS_NOTIFY_CHANNEL, parseHint } from '../event-store/fanout-hint.js';
import { RealtimeRepository } from './realtime.repository.js';

const PAGE = 500;
/**
 * Channels and events per batch read: bound one statement and the synchronous delivery after it
 * (a reconnect catch-up can find every followed channel far behind); a channel that filled its
 * share is read again in the next batch.
 */
const BATCH_CHANNELS = 100;
const BATCH_EVENTS = 2000;

/** What the relay hands its consumer (the socket delivery of this node). */
export interface RelaySink {
  /** Committed events of one channel, contiguous and in seq order, right after `delivered` moved past them. */
  deliver(channel: string, events: ChannelEvent[]): void;
  /** Hinted channels this node does not follow: a local user may have joined one. */
  unfollowedActivity(channels: string[]): void;
  /** The listener (re)connected: anything may have been missed while it was away. */
  listenerConnected(): void;
  /** Periodic housekeeping, on the safety-poll timer. */
  tick(): void;
}

interface Feed {
  /** Highest seq read from the store and handed to the sink. */
  delivered: number;
  /** Highest seq known to exist (hint or poll). */
  wanted: number;
  /** In the batch being read now: hints only raise `wanted`, read after it. */
  reading: boolean;
  /** A hint came while it was being read (what it announced may be newer than the read). */
  hintedWhileReading: boolean;
}

/**
 * One LISTEN connection per node. A NOTIFY is only a wake-up: for every followed channel the relay
 * reads the stream by seq from the last seq it delivered, so a burst of hints becomes one range read
 * and a lost hint is repaired by the next one, by the reconnect catch-up, or by the safety poll.
 * One read is in flight at a time, for every channel hinted since the last one began: idle, a hint
 * is read at once; busy, the reads merge into fewer statements instead of queueing one per post.
 */
@Injectable()
export class Relay implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(Relay.name);
  private readonly feeds = new Map<string, Feed>();
  /** Followed channels with more to read than delivered, waiting for the next batch read. */
  private readonly due = new Set<string>();
  private batching = false;
  private readonly unfollowed = new Set<string>();
  private unfollowedFlush: NodeJS.Immediate | undefined;
  private subscriber: Subscriber | undefined;
  private poll: NodeJS.Timeout | undefined;
  private sink: RelaySink | undefined;
  /** Other NOTIFY channels heard on this node's one LISTEN connection (the ephemeral bus). */
  private readonly listeners = new Map<string, (payload: string) => void>();
  private closed = false;
  private ready = false;
  /** Stream reads for delivery (relay and socket catch-ups) do not wait behind the writers' pool. */
  readonly reads: pg.Pool;

  constructor(
    private readonly store: EventStore,
    private readonly repo: RealtimeRepository,
    @Inject(CONFIG) private readonly config: Config,
  ) {
    this.reads = createPool(config.DATABASE_URL, config.RELAY_POOL_SIZE);
    // Appends made on this node reach its sockets without the NOTIFY round trip; other nodes still
    // hear them through NOTIFY, and the read by seq makes the double hint harmless.
    store.onAppended((channel, seq) => this.hint(channel, seq));
  }

  /** Events of one channel after `afterSeq`, through the delivery pool. */
  readChannel(channel: string, afterSeq: number, limit: number): Promise<ChannelEvent[]> {
    return this.store.readChannel(channel, afterSeq, limit, this.reads);
  }

  attach(sink: RelaySink): void {
    this.sink = sink;
  }

  /** Hears another NOTIFY channel on the same connection; call before the application starts. */
  listen(notifyChannel: string, listener: (payload: string) => void): void {
    this.listeners.set(notifyChannel, listener);
  }

  async onApplicationBootstrap(): Promise<void> {
    const subscriber = pgListen.default(
      // TCP keepalive instead of pg-listen's periodic `SELECT pg_backend_pid()`: the connection then
      // stays visible as `LISTEN ...` in pg_stat_activity (and by its application_name), and a
      // silently dead peer only delays delivery until the safety poll, never loses it.
      {
        connectionString: this.config.DATABASE_URL,
        application_name: 'atomcast-relay',
        keepAlive: true,
        keepAliveInitialDelayMillis: 10_000,
      },
      // Hints are plain text, not JSON. A long retry window: the safety poll covers the outage.
      {
        parse: (s: string) => s,
        retryTimeout: 3_600_000,
        retryInterval: (n: number) => Math.min(100 * 2 ** n, 2000),
        paranoidChecking: false,
      },
    );
    this.subscriber = subscriber;
    subscriber.events.on('error', (err: Error) => this.logger.warn(`listener: ${err.message}`));
    subscriber.events.on('connected', () => {
      if (!this.ready) return;
      // Re-LISTENed after a loss: catch up every followed channel from what it delivered.
      void this.checkHeads();
      this.sink?.listenerConnected();
    });
    subscriber.notifications.on(EVENTS_NOTIFY_CHANNEL, (payload: string | undefined) => {
      if (payload) for (const { channel, seq } of parseHint(payload)) this.hint(channel, seq);
    });
    for (const [notifyChannel, listener] of this.listeners) {
      subscriber.notifications.on(notifyChannel, (payload: string | undefined) => {
        if (payload) listener(payload);
      });
    }
    await subscriber.connect();
    await subscriber.listenTo(EVENTS_NOTIFY_CHANNEL);
    for (const notifyChannel of this.listeners.keys()) await subscriber.listenTo(notifyChannel);
    this.ready = true;
    this.poll = setInterval(() => {
      void this.checkHeads();
      this.sink?.tick();
    }, this.config.RELAY_POLL_MS);
    this.poll.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    clearInterval(this.poll);
    if (this.unfollowedFlush) clearImmediate(this.unfollowedFlush);
    this.due.clear();
    await this.subscriber?.close().catch(() => {});
    await this.reads.end().catch(() => {});
  }

  /** Starts following a channel from `from` (the seq this node's first socket starts after). */
  follow(channel: string, from: number): void {
    if (!this.feeds.has(channel)) this.feeds.set(channel, { delivered: from, wanted: from, reading: false, hintedWhileReading: false });
  }

  unfollow(channel: string): void {
    this.feeds.delete(channel);
  }

  /** The seq this node has delivered up to, or undefined when it does not follow the channel. */
  delivered(channel: string): number | undefined {
    return this.feeds.get(channel)?.delivered;
  }

  /** Something up to `seq` exists in `channel`: read it unless it was already delivered. */
  hint(channel: string, seq: number): void {
    const feed = this.feeds.get(channel);
    if (!feed) {
      this.noteUnfollowed(channel);
      return;
    }
    if (seq > feed.wanted) feed.wanted = seq;
    if (feed.reading) feed.hintedWhileReading ||= seq > feed.delivered;
    if (feed.reading || feed.wanted <= feed.delivered) return;
    this.due.add(channel);
    if (!this.batching) void this.readDue();
  }

  get followed(): string[] {
    return [...this.feeds.keys()];
  }

  private noteUnfollowed(channel: string): void {
    this.unfollowed.add(channel);
    this.unfollowedFlush ??= setImmediate(() => {
      this.unfollowedFlush = undefined;
      const channels = [...this.unfollowed];
      this.unfollowed.clear();
      this.sink?.unfollowedActivity(channels);
    });
  }

  /** Reads every due channel, a batch at a time, until none is left; hints meanwhile join the next batch. */
  private async readDue(): Promise<void> {
    this.batching = true;
    try {
      while (!this.closed && this.due.size) {
        const batch: Array<[string, Feed]> = [];
        for (const channel of this.due) {
          this.due.delete(channel);
          const feed = this.feeds.get(channel);
          if (!feed || feed.reading || feed.wanted <= feed.delivered) continue;
          feed.reading = true;
          feed.hintedWhileReading = false;
          batch.push([channel, feed]);
          if (batch.length === BATCH_CHANNELS) break;
        }
        if (batch.length) await this.readBatch(batch);
      }
    } finally {
      this.batching = false;
    }
  }

  private async readBatch(batch: Array<[string, Feed]>): Promise<void> {
    const limit = Math.max(20, Math.min(PAGE, Math.floor(BATCH_EVENTS / batch.length)));
    let pages: Map<string, ChannelEvent[]>;
    try {
      pages = await this.store.readChannels(
        batch.map(([channel, feed]) => ({ channel, afterSeq: feed.delivered })),
        limit,
        this.reads,
      );
    } catch (err) {
      // The pool may be briefly unavailable; the safety poll retries.
      for (const [, feed] of batch) feed.reading = false;
      if (!this.closed) this.logger.warn(`relay read of ${batch.length} channels: ${(err as Error).message}`);
      return;
    }
    for (const [channel, feed] of batch) {
      feed.reading = false;
      if (this.closed || this.feeds.get(channel) !== feed) continue;
      const events = pages.get(channel) ?? [];
      const fresh = events.filter((e) => e.seq > feed.delivered);
      if (!fresh.length) {
        // Nothing past a full page, or a head that said more exists but nothing is readable (it
        // cannot be, committed heads only move with their events): trust the store and wait for
        // the next hint or poll. A hint that came during the read is read next.
        if (feed.hintedWhileReading) this.due.add(channel);
        else feed.wanted = feed.delivered;
        continue;
      }
      feed.delivered = fresh[fresh.length - 1].seq;
      if (feed.delivered > feed.wanted) feed.wanted = feed.delivered;
      if (events.length === limit && feed.wanted <= feed.delivered) feed.wanted = feed.delivered + 1;
      try {
        this.sink?.deliver(channel, fresh);
      } catch (err) {
        this.logger.warn(`relay delivery ${channel}: ${(err as Error).message}`);
      }
      if (feed.wanted > feed.delivered) this.due.add(channel);
    }
  }

  /** The safety poll: compares every followed channel's committed head with what was delivered. */
  private async checkHeads(): Promise<void> {
    const channels = this.followed;
    if (!channels.length || this.closed) return;
    try {
      const heads = await this.repo.heads(channels);
      for (const [channel, head] of heads) this.hint(channel, head);
    } catch (err) {
      if (!this.closed) this.logger.warn(`relay poll: ${(err as Error).message}`);
    }
  }
}
