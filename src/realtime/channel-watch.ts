import { Injectable, Logger } from '@nestjs/common';
import type { ChannelEvent } from '../event-store/events.js';
import { RealtimeRepository } from './realtime.repository.js';
import { Relay } from './relay.js';
import type { Session } from './session.js';

/**
 * The stream events that change what a channel looks like in a list (its name, topic, purpose,
 * whether it is archived). Types that do not exist yet on a branch simply never match.
 */
export const CHANNEL_METADATA_EVENTS: ReadonlySet<string> = new Set([
  'channel_archive',
  'channel_unarchive',
  'channel_rename',
  'channel_topic',
  'channel_purpose',
]);

const PAGE = 200;

interface Watched {
  sessions: Set<Session>;
  /** The last seq looked at for metadata. */
  cursor: number;
  reading: boolean;
}

/**
 * `channels.subscribe {channels}`: a socket names the channels it has in view (a channel browser,
 * a list) and gets their metadata events as `channel_changed` without being a member and without
 * hearing about every other channel of the workspace. Members get the same events as `event`
 * already, so a subscribed member is not sent them twice. The events come from the stream (read by
 * seq from the relay's pool, woken by the relay's hints and its safety poll), so only committed
 * changes are sent, in seq order per channel.
 */
@Injectable()
export class ChannelWatch {
  private readonly logger = new Logger(ChannelWatch.name);
  private readonly watched = new Map<string, Watched>();

  constructor(
    private readonly relay: Relay,
    private readonly repo: RealtimeRepository,
  ) {}

  /** Replaces the session's channel subscriptions; `heads` are the channels' heads read now (channels the caller may read). */
  subscribe(session: Session, heads: Map<string, number>): void {
    this.forget(session);
    for (const [channel, head] of heads) {
      session.channelSubscriptions.add(channel);
      let w = this.watched.get(channel);
      if (!w) this.watched.set(channel, (w = { sessions: new Set(), cursor: head, reading: false }));
      w.sessions.add(session);
    }
  }

  forget(session: Session): void {
    for (const channel of session.channelSubscriptions) {
      const w = this.watched.get(channel);
      w?.sessions.delete(session);
      if (w && !w.sessions.size) this.watched.delete(channel);
    }
    session.channelSubscriptions.clear();
  }

  /** Events the relay delivered (followed channels): contiguous ones are used as they are, a gap is read. */
  delivered(channel: string, events: ChannelEvent[]): void {
    const w = this.watched.get(channel);
    if (!w || !events.length) return;
    if (w.reading || events[0].seq > w.cursor + 1) return void this.read(channel, w);
    this.send(channel, w, events);
  }

  /** Hinted or polled activity in channels this node does not follow. */
  activity(channels: Iterable<string>): void {
    for (const channel of channels) {
      const w = this.watched.get(channel);
      if (w && !w.reading) void this.read(channel, w);
    }
  }

  /** The safety poll: a lost hint for an unfollowed watched channel is repaired here. */
  async poll(): Promise<void> {
    const unfollowed = [...this.watched.keys()].filter((c) => this.relay.delivered(c) === undefined);
    if (!unfollowed.length) return;
    const heads = await this.repo.heads(unfollowed).catch(() => new Map<string, number>());
    this.activity([...heads].filter(([c, head]) => head > (this.watched.get(c)?.cursor ?? head)).map(([c]) => c));
  }

  private async read(channel: string, w: Watched): Promise<void> {
    w.reading = true;
    try {
      for (;;) {
        const events = await this.relay.readChannel(channel, w.cursor, PAGE);
        if (!events.length || this.watched.get(channel) !== w) return;
        this.send(channel, w, events);
        if (events.length < PAGE) return;
      }
    } catch (err) {
      this.logger.warn(`channel watch read: ${(err as Error).message}`);
    } finally {
      w.reading = false;
    }
  }

  private send(channel: string, w: Watched, events: ChannelEvent[]): void {
    for (const event of events) {
      if (event.seq <= w.cursor) continue;
      w.cursor = event.seq;
      if (!CHANNEL_METADATA_EVENTS.has(event.type)) continue;
      for (const session of w.sessions) if (!session.isMember(channel)) session.socket.emit('channel_changed', event);
    }
  }
}
