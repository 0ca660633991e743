import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { CONFIG, type Config } from '../config/config.js';
import { EphemeralBus } from './ephemeral-bus.js';
import { type Session, unsent } from './session.js';

export type PresenceState = 'active' | 'away';

/**
 * Presence is active while a user has a socket on any node that is not idle; away a debounce after
 * the last one closes, or once every socket of the user has been idle (no post, typing, view or
 * mark) for PRESENCE_IDLE_MS. Changes go only to sockets that subscribed to that user. Nodes tell
 * each other over NOTIFY; nothing is stored.
 */
@Injectable()
export class Presence implements OnModuleInit, OnModuleDestroy {
  private readonly sessions = new Map<string, Set<Session>>();
  private readonly awayTimers = new Map<string, NodeJS.Timeout>();
  /** Connected users this node announced away because all their sockets went idle. */
  private readonly idle = new Set<string>();
  /** user -> nodes on which the user is active -> when that claim expires without a heartbeat */
  private readonly activeOn = new Map<string, Map<string, number>>();
  private readonly subscribers = new Map<string, Set<Session>>();
  /** Users who asked to be shown away (users.setPresence away), whatever their sockets do. */
  private readonly manualAway = new Set<string>();
  private sweeper: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly bus: EphemeralBus,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  onModuleInit(): void {
    this.sweeper = setInterval(() => this.sweep(Date.now()), Math.min(1000, Math.max(10, this.config.PRESENCE_IDLE_MS / 4)));
    this.sweeper.unref();
    // Every node repeats who is active on it, so a node that starts learns the others' users and a
    // node that dies without a word (kill -9) stops counting after three missed beats.
    this.heartbeat = setInterval(() => this.beat(), this.config.PRESENCE_HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  private get ttl(): number {
    return 3 * this.config.PRESENCE_HEARTBEAT_MS;
  }

  private beat(): void {
    const users = [...this.sessions.keys()].filter((u) => !this.idle.has(u));
    const now = Date.now();
    for (const user of users) this.apply(this.bus.nodeId, user, 'active', now);
    // NOTIFY payloads stay under 8,000 bytes.
    for (let i = 0; i < users.length; i += 400) {
      void this.bus.publish({ kind: 'presence-beat', node: this.bus.nodeId, users: users.slice(i, i + 400) });
    }
  }

  /** Another node's heartbeat. */
  heard(node: string, users: string[]): void {
    const now = Date.now();
    for (const user of users) this.apply(node, user, 'active', now);
  }

  connected(session: Session): void {
    const user = session.user;
    session.lastActive = Date.now();
    let set = this.sessions.get(user);
    if (!set) this.sessions.set(user, (set = new Set()));
    set.add(session);
    if (this.idle.delete(user)) return this.announce(user, 'active');
    if (set.size > 1) return;
    const pending = this.awayTimers.get(user);
    if (pending) {
      // Back before the debounce ran out: nobody saw them leave.
      clearTimeout(pending);
      this.awayTimers.delete(user);
      return;
    }
    this.announce(user, 'active');
  }

  disconnected(session: Session): void {
    const user = session.user;
    const set = this.sessions.get(user);
    set?.delete(session);
    if (set?.size) return;
    this.sessions.delete(user);
    if (this.idle.delete(user)) return; // already away
    const timer = setTimeout(() => {
      this.awayTimers.delete(user);
      if (!this.sessions.has(user)) this.announce(user, 'away');
    }, this.config.PRESENCE_AWAY_DELAY_MS);
    timer.unref();
    this.awayTimers.set(user, timer);
  }

  /** The user did something on this socket: an idle user is active again. */
  activity(session: Session): void {
    session.lastActive = Date.now();
    if (this.idle.delete(session.user)) this.announce(session.user, 'active');
  }

  private sweep(now: number): void {
    for (const [user, nodes] of this.activeOn) {
      for (const [node, expires] of nodes) if (expires < now) this.apply(node, user, 'away', now);
    }
    const limit = now - this.config.PRESENCE_IDLE_MS;
    for (const [user, set] of this.sessions) {
      if (this.idle.has(user)) continue;
      let busy = false;
      for (const session of set) if (session.lastActive > limit) busy = true;
      if (busy) continue;
      this.idle.add(user);
      this.announce(user, 'away');
    }
  }

  state(user: string): PresenceState {
    return !this.manualAway.has(user) && this.connectedAnywhere(user) ? 'active' : 'away';
  }

  /** A live socket of the user on some node (as far as this node heard). */
  connectedAnywhere(user: string): boolean {
    return !!this.activeOn.get(user)?.size;
  }

  /** users.setPresence from any node: `away` holds until the user sets `auto` again. */
  setManualAway(user: string, away: boolean): void {
    const before = this.state(user);
    if (away) this.manualAway.add(user);
    else this.manualAway.delete(user);
    this.tell(user, before);
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
  apply(node: string, user: string, presence: PresenceState, now = Date.now()): void {
    const before = this.state(user);
    let nodes = this.activeOn.get(user);
    if (presence === 'active') {
      if (!nodes) this.activeOn.set(user, (nodes = new Map()));
      nodes.set(node, now + this.ttl);
    } else if (nodes) {
      nodes.delete(node);
      if (!nodes.size) this.activeOn.delete(user);
    }
    this.tell(user, before);
  }

  /** Sends the user's state to its subscribers if it is not `before` any more. */
  private tell(user: string, before: PresenceState): void {
    const after = this.state(user);
    if (after === before) return;
    for (const session of this.subscribers.get(user) ?? []) {
      // Ephemeral signals are the first thing a congested socket goes without.
      if (unsent(session.socket).bytes > this.config.SOCKET_EPHEMERAL_DROP_BYTES) continue;
      session.socket.emit('presence', { user, presence: after });
    }
  }

  private announce(user: string, presence: PresenceState): void {
    this.apply(this.bus.nodeId, user, presence);
    void this.bus.publish({ kind: 'presence', node: this.bus.nodeId, user, presence });
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
    clearInterval(this.heartbeat);
    for (const timer of this.awayTimers.values()) clearTimeout(timer);
    this.awayTimers.clear();
  }
}
