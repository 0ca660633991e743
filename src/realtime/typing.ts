import { Inject, Injectable } from '@nestjs/common';
import { CONFIG, type Config } from '../config/config.js';
import { EphemeralBus } from './ephemeral-bus.js';
import { type Session, unsent } from './session.js';

/** Typing indicators: throttled per user and channel, sent only to sockets viewing the channel, never stored. */
@Injectable()
export class Typing {
  private readonly viewers = new Map<string, Set<Session>>();
  private readonly lastSent = new Map<string, number>();

  constructor(
    private readonly bus: EphemeralBus,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  view(session: Session, channel: string | undefined): void {
    this.forget(session);
    session.viewing = channel;
    if (channel === undefined) return;
    let set = this.viewers.get(channel);
    if (!set) this.viewers.set(channel, (set = new Set()));
    set.add(session);
  }

  forget(session: Session): void {
    if (session.viewing === undefined) return;
    const set = this.viewers.get(session.viewing);
    set?.delete(session);
    if (set && !set.size) this.viewers.delete(session.viewing);
    session.viewing = undefined;
  }

  /** The user typed in the channel; returns false when the signal was throttled. */
  typed(session: Session, channel: string): boolean {
    const key = `${session.user}:${channel}`;
    const now = Date.now();
    if (now - (this.lastSent.get(key) ?? -Infinity) < this.config.TYPING_THROTTLE_MS) return false;
    if (this.lastSent.size > 10_000) this.prune(now);
    this.lastSent.set(key, now);
    this.deliver(channel, session.user);
    void this.bus.publish({ kind: 'typing', node: this.bus.nodeId, channel, user: session.user });
    return true;
  }

  /** Sends a typing signal to this node's viewers of the channel (members only; never to the typist). */
  deliver(channel: string, user: string): void {
    for (const session of this.viewers.get(channel) ?? []) {
      if (session.user === user || session.viewing !== channel || !session.streams.has(channel)) continue;
      if (unsent(session.socket).bytes > this.config.SOCKET_EPHEMERAL_DROP_BYTES) continue;
      session.socket.emit('typing', { channel, user });
    }
  }

  private prune(now: number): void {
    for (const [key, at] of this.lastSent) if (now - at >= this.config.TYPING_THROTTLE_MS) this.lastSent.delete(key);
  }
}
