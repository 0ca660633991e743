import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { CONFIG, type Config } from '../config/config.js';
import { Relay } from './relay.js';
import { type Session, unsent } from './session.js';

export type PresenceState = 'active' | 'away';

/**
 * Presence is active while a user has a socket on any node, away a debounce after the last one
 * closes; changes go only to sockets that subscribed to that user. Nodes tell each other over
 * NOTIFY; nothing is stored.
 */
@Injectable()
export class Presence implements OnModuleDestroy {
  private readonly sockets = new Map<string, number>();
  private readonly awayTimers = new Map<string, NodeJS.Timeout>();
  /** user -> nodes on which the user is active */
  private readonly activeOn = new Map<string, Set<string>>();
  private readonly subscribers = new Map<string, Set<Session>>();

  constructor(
    private readonly relay: Relay,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  connected(user: string): void {
    const count = (this.sockets.get(user) ?? 0) + 1;
    this.sockets.set(user, count);
    if (count > 1) return;
    const pending = this.awayTimers.get(user);
    if (pending) {
      // Back before the debounce ran out: nobody saw them leave.
      clearTimeout(pending);
      this.awayTimers.delete(user);
      return;
    }
    this.announce(user, 'active');
  }

  disconnected(user: string): void {
    const count = (this.sockets.get(user) ?? 1) - 1;
    if (count > 0) {
      this.sockets.set(user, count);
      return;
    }
    this.sockets.delete(user);
    const timer = setTimeout(() => {
      this.awayTimers.delete(user);
      if (!this.sockets.has(user)) this.announce(user, 'away');
    }, this.config.PRESENCE_AWAY_DELAY_MS);
    timer.unref();
    this.awayTimers.set(user, timer);
  }

  state(user: string): PresenceState {
    return this.activeOn.get(user)?.size ? 'active' : 'away';
  }

  /** Replaces the session's subscriptions (as Slack's presence_sub does); returns their current states. */
  subscribe(session: Session, users: string[]): Record<string, PresenceState> {
    this.unsubscribe(session);
    for (const user of users) {
      session.subscriptions.add(user);
      let set = this.subscribers.get(user);
      if (!set) this.subscribers.set(user, (set = new Set()));
      set.add(session);
    }
    return Object.fromEntries(users.map((u) => [u, this.state(u)]));
  }

  unsubscribe(session: Session): void {
    for (const user of session.subscriptions) {
      const set = this.subscribers.get(user);
      set?.delete(session);
      if (set && !set.size) this.subscribers.delete(user);
    }
    session.subscriptions.clear();
  }

  /** A presence change announced by any node (this one included). */
  apply(node: string, user: string, presence: PresenceState): void {
    const before = this.state(user);
    let nodes = this.activeOn.get(user);
    if (presence === 'active') {
      if (!nodes) this.activeOn.set(user, (nodes = new Set()));
      nodes.add(node);
    } else if (nodes) {
      nodes.delete(node);
      if (!nodes.size) this.activeOn.delete(user);
    }
    const after = this.state(user);
    if (after === before) return;
    for (const session of this.subscribers.get(user) ?? []) {
      // Ephemeral signals are the first thing a congested socket goes without.
      if (unsent(session.socket).bytes > this.config.SOCKET_EPHEMERAL_DROP_BYTES) continue;
      session.socket.emit('presence', { user, presence: after });
    }
  }

  private announce(user: string, presence: PresenceState): void {
    this.apply(this.relay.nodeId, user, presence);
    void this.relay.broadcastEphemeral(JSON.stringify({ kind: 'presence', node: this.relay.nodeId, user, presence }));
  }

  onModuleDestroy(): void {
    for (const timer of this.awayTimers.values()) clearTimeout(timer);
    this.awayTimers.clear();
  }
}
