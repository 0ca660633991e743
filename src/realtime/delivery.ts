// Over 300 lines on purpose: membership changes, catch-up reads, the room hand-off and backpressure
// all move the same per-stream cursor, and the exactly-once rule (send only seq = cursor + 1) is
// easiest to check when every place that moves it is in one file.
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Server } from 'socket.io';
import { CONFIG, type Config } from '../config/config.js';
import type { ChannelEvent } from '../event-store/events.js';
import { ChannelWatch } from './channel-watch.js';
import { RealtimeRepository, type Membership } from './realtime.repository.js';
import { Relay, type RelaySink } from './relay.js';
import { room, Session, type Stream, unsent } from './session.js';

const PAGE = 500;
const RESYNC_PACKETS = 2000;
/** How long a backlog read waits for its socket to drain before the stream is told to re-sync. */
const BACKLOG_WAIT_MS = 30_000;

interface ChannelStreams {
  all: Set<Stream>;
  /** Streams outside the room that are not stalled: they need the relay's attention per event. */
  explicit: Set<Stream>;
}

/**
 * Exactly-once, in-order delivery of channel events to this node's sockets. Sockets that are caught
 * up sit in the channel's room and share one broadcast per event; the others read the store from
 * their own cursor until they reach the relay, then join the room. Nothing is ever sent to a socket
 * except seq = its cursor + 1.
 */
@Injectable()
export class Delivery implements RelaySink {
  private readonly logger = new Logger(Delivery.name);
  private server: Server | undefined;
  private readonly byUser = new Map<string, Set<Session>>();
  private readonly byChannel = new Map<string, ChannelStreams>();

  constructor(
    private readonly relay: Relay,
    private readonly repo: RealtimeRepository,
    @Inject(CONFIG) private readonly config: Config,
    private readonly watch: ChannelWatch,
  ) {
    relay.attach(this);
  }

  bind(server: Server): void {
    this.server = server;
  }

  sessionsOf(user: string): Iterable<Session> {
    return this.byUser.get(user) ?? [];
  }

  get localUsers(): string[] {
    return [...this.byUser.keys()];
  }

  /**
   * Registers the socket before reading its memberships, so no join committed meanwhile is missed.
   * Channels in `cursors` continue after them; the others start at the head, live at once unless
   * `hold` (the client announced a `sync`: nothing is sent before it decides where to start).
   */
  open(session: Session, cursors: Record<string, number> | undefined, hold = false): Promise<void> {
    let set = this.byUser.get(session.user);
    if (!set) this.byUser.set(session.user, (set = new Set()));
    set.add(session);
    return session.run(async () => {
      const memberships = await this.repo.channelsOf(session.user);
      if (session.closed) return;
      session.initializing = false;
      // A client's cursor never exceeds the head read after it disconnected; clamping it keeps a
      // leave committed since then in the stream's way.
      for (const m of memberships) {
        const given = cursors?.[m.channel];
        this.addStream(session, m.channel, Math.min(given ?? m.head, m.head), m.head, hold && given === undefined);
      }
      for (const [channel, seq] of session.pendingJoins) this.addStream(session, channel, seq - 1);
      session.pendingJoins.clear();
    });
  }

  close(session: Session): void {
    session.closed = true;
    for (const stream of [...session.streams.values()]) this.removeStream(stream);
    const set = this.byUser.get(session.user);
    set?.delete(session);
    if (set && !set.size) this.byUser.delete(session.user);
  }

  /**
   * `sync {cursors}`: each listed channel continues after the given seq. A stream that has not sent
   * anything yet (or was told to re-sync) takes the client's cursor as is. One that already sent
   * events from `start` on only moves forward when the cursor is at or past `start` (the client's
   * cursor lags behind what is in flight: nothing is sent twice); a cursor below `start` names
   * events this socket never sent, so the stream restarts from it (the client asked for a full
   * replay; events it got before the sync come again, in order).
   * Resolves when the backlog has been written; returns the channels the user is not in.
   */
  async sync(session: Session, cursors: Record<string, number>): Promise<string[]> {
    const notMember: string[] = [];
    const catchUps: Array<Promise<void>> = [];
    for (const [channel, seq] of Object.entries(cursors)) {
      const stream = session.streams.get(channel);
      if (!stream) {
        notMember.push(channel);
        continue;
      }
      const current = this.cursorOf(stream);
      const fresh = stream.mode === 'stalled' || stream.mode === 'held' || current === stream.start || seq < stream.start;
      if (fresh || seq > current) {
        this.setExplicit(stream, seq);
        if (fresh) stream.start = seq;
      }
      const running = this.advance(stream);
      if (running) catchUps.push(running);
    }
    // Held channels the client did not name start from here.
    for (const stream of session.streams.values()) {
      if (stream.mode !== 'held') continue;
      this.setExplicit(stream, this.relay.delivered(stream.channel) ?? stream.cursor);
      stream.start = stream.cursor;
      const running = this.advance(stream);
      if (running) catchUps.push(running);
    }
    await Promise.all(catchUps);
    return notMember;
  }

  /** The last seq sent (or about to be sent by the relay's broadcast) to this stream. */
  cursorOf(stream: Stream): number {
    return stream.mode === 'live' ? (this.relay.delivered(stream.channel) ?? stream.cursor) : stream.cursor;
  }

  // ---- relay sink ----

  deliver(channel: string, events: ChannelEvent[]): void {
    this.watch.delivered(channel, events);
    const streams = this.byChannel.get(channel);
    if (!streams || !this.server) return;
    const target = this.server.to(room(channel));
    for (const event of events) {
      if (event.type === 'member_joined_channel' && event.user) this.joined(event.user, channel, event.seq);
      if (!streams.all.size) continue;
      // Streams waiting right below this event join the room before it is broadcast; streams
      // further behind read the gap from the store themselves.
      for (const stream of streams.explicit) {
        if (stream.reading) continue;
        if (stream.cursor === event.seq - 1) this.goLive(stream);
        else if (stream.cursor < event.seq - 1) void this.catchUp(stream);
      }
      target.emit('event', event);
      if (event.type === 'member_left_channel' && event.user) this.left(event.user, channel, event.seq);
    }
  }

  unfollowedActivity(channels: string[]): void {
    this.watch.activity(channels);
    const users = this.localUsers;
    if (!users.length) return;
    this.repo.membersAmong(channels, users).then(
      (rows) => this.applyMemberships(rows),
      (err: Error) => this.logger.warn(`membership check: ${err.message}`),
    );
  }

  listenerConnected(): void {
    // Joins to channels this node did not follow may have been announced while it was deaf.
    const users = this.localUsers;
    if (!users.length) return;
    const batches: string[][] = [];
    for (let i = 0; i < users.length; i += 1000) batches.push(users.slice(i, i + 1000));
    Promise.all(batches.map((batch) => this.repo.channelsOfUsers(batch))).then(
      (all) => this.applyMemberships(all.flat()),
      (err: Error) => this.logger.warn(`membership reconcile: ${err.message}`),
    );
  }

  tick(): void {
    void this.watch.poll();
    for (const [channel, streams] of this.byChannel) {
      if (!streams.all.size) {
        this.byChannel.delete(channel);
        this.relay.unfollow(channel);
        continue;
      }
      for (const stream of streams.explicit) if (!stream.reading) this.advance(stream);
    }
    this.sweepBackpressure();
  }

  // ---- membership ----

  private joined(user: string, channel: string, seq: number): void {
    for (const session of this.sessionsOf(user)) {
      if (session.streams.has(channel)) continue;
      if (session.initializing) session.pendingJoins.set(channel, seq);
      // Starts right below the join event, which reaches it with the broadcast that follows.
      else this.register(session, channel, seq - 1);
    }
  }

  private left(user: string, channel: string, seq: number): void {
    for (const session of this.sessionsOf(user)) {
      session.leftAt.set(channel, seq);
      session.pendingJoins.delete(channel);
      const stream = session.streams.get(channel);
      if (!stream) continue;
      // A live stream just got the leave event; one at or past it must get nothing more. A stream
      // behind it is reading from the store and stops at the leave event itself.
      if (stream.mode !== 'explicit' || stream.cursor >= seq) this.removeStream(stream);
    }
  }

  private applyMemberships(rows: Membership[]): void {
    for (const m of rows) {
      for (const session of this.sessionsOf(m.user)) {
        if (session.streams.has(m.channel) || session.closed) continue;
        if ((session.leftAt.get(m.channel) ?? -1) >= m.joinedSeq) continue; // a stale read
        if (session.initializing) session.pendingJoins.set(m.channel, m.joinedSeq);
        else this.addStream(session, m.channel, m.joinedSeq - 1, m.head);
      }
    }
  }

  // ---- streams ----

  private addStream(session: Session, channel: string, cursor: number, head?: number, held = false): void {
    if (session.streams.has(channel) || session.closed) return;
    // The relay starts at the head: a socket behind it reads its own backlog (and waits for its
    // own buffer), instead of the relay broadcasting history into the room.
    this.relay.follow(channel, head ?? cursor);
    const stream = this.register(session, channel, cursor);
    if (head !== undefined) this.relay.hint(channel, head);
    if (held) {
      stream.mode = 'held';
      this.byChannel.get(channel)?.explicit.delete(stream);
    } else {
      this.advance(stream);
    }
  }

  private register(session: Session, channel: string, cursor: number): Stream {
    const stream: Stream = { session, channel, mode: 'explicit', cursor, start: cursor, reading: false };
    session.streams.set(channel, stream);
    let streams = this.byChannel.get(channel);
    if (!streams) this.byChannel.set(channel, (streams = { all: new Set(), explicit: new Set() }));
    streams.all.add(stream);
    streams.explicit.add(stream);
    return stream;
  }

  private removeStream(stream: Stream): void {
    const { session, channel } = stream;
    if (session.streams.get(channel) !== stream) return;
    if (stream.mode === 'live') void session.socket.leave(room(channel));
    session.streams.delete(channel);
    if (session.viewing === channel) session.viewing = undefined;
    const streams = this.byChannel.get(channel);
    streams?.all.delete(stream);
    streams?.explicit.delete(stream);
    // The channel is unfollowed on the next tick, not here: a join later in the same relay batch
    // must find the feed that is delivering it.
  }

  /** Decides what an explicit stream does now: join the room, read its gap, or wait for the relay. */
  private advance(stream: Stream): Promise<void> | undefined {
    if (stream.mode !== 'explicit' || stream.reading) return undefined;
    const delivered = this.relay.delivered(stream.channel);
    if (delivered === undefined) return undefined;
    if (stream.cursor === delivered) this.goLive(stream);
    else if (stream.cursor < delivered) return this.catchUp(stream);
    else this.relay.hint(stream.channel, stream.cursor); // ahead of this node's relay (synced elsewhere)
    return undefined;
  }

  private goLive(stream: Stream): void {
    stream.mode = 'live';
    this.byChannel.get(stream.channel)?.explicit.delete(stream);
    void stream.session.socket.join(room(stream.channel));
  }

  private setExplicit(stream: Stream, cursor: number): void {
    if (stream.mode === 'live') void stream.session.socket.leave(room(stream.channel));
    stream.mode = 'explicit';
    stream.cursor = cursor;
    this.byChannel.get(stream.channel)?.explicit.add(stream);
  }

  private stall(stream: Stream): void {
    const cursor = this.cursorOf(stream);
    if (stream.mode === 'live') void stream.session.socket.leave(room(stream.channel));
    stream.mode = 'stalled';
    stream.cursor = cursor;
    this.byChannel.get(stream.channel)?.explicit.delete(stream);
    stream.session.socket.emit('resync', { channel: stream.channel, seq: cursor });
  }

  /** Reads the stream's gap from the store page by page, then hands it to the room. */
  private async catchUp(stream: Stream): Promise<void> {
    const { session, channel } = stream;
    const current = () => !session.closed && session.streams.get(channel) === stream && stream.mode === 'explicit';
    if (stream.reading) return;
    stream.reading = true;
    try {
      while (current()) {
        const drained = await this.writable(session);
        if (!current()) return;
        if (!drained) return this.stall(stream); // a reader that stopped reading gets nothing more to buffer
        const events = await this.relay.readChannel(channel, stream.cursor, PAGE);
        if (!current()) return;
        for (const event of events) {
          if (event.seq !== stream.cursor + 1) continue;
          session.socket.emit('event', event);
          stream.cursor = event.seq;
          if (event.type === 'member_left_channel' && event.user === session.user) {
            session.leftAt.set(channel, event.seq);
            this.removeStream(stream);
            return;
          }
        }
        if (events.length < PAGE) {
          const delivered = this.relay.delivered(channel);
          if (delivered === undefined || stream.cursor >= delivered) {
            if (stream.cursor === delivered) this.goLive(stream);
            return;
          }
        }
      }
    } catch (err) {
      // Left explicit; the next relay event or tick retries from the cursor.
      this.logger.warn(`catch-up ${channel}: ${(err as Error).message}`);
    } finally {
      stream.reading = false;
    }
  }

  /**
   * Waits while the socket has a lot unsent, so a catch-up never buffers without bound. False when
   * it did not drain within BACKLOG_WAIT_MS.
   */
  private async writable(session: Session): Promise<boolean> {
    const deadline = Date.now() + BACKLOG_WAIT_MS;
    while (!session.closed) {
      const { bytes, packets } = unsent(session.socket);
      if (bytes < this.config.SOCKET_RESYNC_BYTES / 4 && packets < RESYNC_PACKETS / 4) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
    return true;
  }

  /** Sockets whose live backlog grew too large leave the rooms and are told to re-sync. */
  private sweepBackpressure(): void {
    for (const sessions of this.byUser.values()) {
      for (const session of sessions) {
        const { bytes, packets } = unsent(session.socket);
        if (bytes <= this.config.SOCKET_RESYNC_BYTES && packets <= RESYNC_PACKETS) continue;
        for (const stream of session.streams.values()) if (stream.mode === 'live') this.stall(stream);
      }
    }
  }
}
