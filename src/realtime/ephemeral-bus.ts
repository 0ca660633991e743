import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { EPHEMERAL_NOTIFY_CHANNEL } from '../db/notify-channels.js';
import { isObject } from './payloads.js';
import { RealtimeRepository } from './realtime.repository.js';
import { Relay } from './relay.js';

/** What travels on the bus. `node` is the sender (its bus's nodeId). */
export type EphemeralSignal =
  | { kind: 'typing'; node: string; channel: string; user: string }
  | { kind: 'presence'; node: string; user: string; presence: 'active' | 'away' }
  | { kind: 'presence-beat'; node: string; users: string[] }
  /** A read marker moved (REST or socket mark): the user's sockets on every node get fresh counts. */
  | { kind: 'counts'; node: string; user: string; channel: string }
  /** Credentials of `user` were revoked: every node forgets them and disconnects their sockets. */
  | { kind: 'revoked'; node: string; user: string; tokens: string[]; reason: string }
  /** A user's profile or status changed (users.profile.set, a status that expired): its subscribers get `user_change`. */
  | { kind: 'user_change'; node: string; user: string }
  /** users.setPresence: the user asked to be shown away (or back to automatic). */
  | { kind: 'manual_presence'; node: string; user: string; away: boolean }
  /** chat.postEphemeral: the message, for `user`'s sockets only (never stored). */
  | { kind: 'ephemeral_message'; node: string; user: string; channel: string; message: Record<string, unknown> };

/**
 * Typing, presence and counts signals between nodes: one NOTIFY channel, heard on the relay's LISTEN
 * connection (one per node). Every node hears every signal, the sender included. Nothing is stored,
 * and a lost signal is acceptable.
 */
@Injectable()
export class EphemeralBus {
  /** Tells this node's own signals apart when they come back over LISTEN. */
  readonly nodeId = randomUUID();
  private readonly subscribers: ((signal: EphemeralSignal) => void)[] = [];

  constructor(
    relay: Relay,
    private readonly repo: RealtimeRepository,
  ) {
    relay.listen(EPHEMERAL_NOTIFY_CHANNEL, (payload) => {
      const signal = parseSignal(payload);
      if (signal) for (const subscriber of this.subscribers) subscriber(signal);
    });
  }

  /** Sends a signal to every node; never throws (NOTIFY payloads must stay under 8,000 bytes). */
  async publish(signal: EphemeralSignal): Promise<void> {
    await this.repo.notify(EPHEMERAL_NOTIFY_CHANNEL, JSON.stringify(signal)).catch(() => {});
  }

  /** Hears every well-formed signal from every node, this one's own included. */
  subscribe(subscriber: (signal: EphemeralSignal) => void): void {
    this.subscribers.push(subscriber);
  }
}

/** A signal from the wire (any node, any version), or undefined when it is not one this node knows. */
function parseSignal(payload: string): EphemeralSignal | undefined {
  let msg: unknown;
  try {
    msg = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (!isObject(msg) || typeof msg.node !== 'string') return undefined;
  const { node } = msg;
  switch (msg.kind) {
    case 'counts':
    case 'typing':
      return typeof msg.user === 'string' && typeof msg.channel === 'string'
        ? { kind: msg.kind, node, user: msg.user, channel: msg.channel }
        : undefined;
    case 'presence':
      return typeof msg.user === 'string' && (msg.presence === 'active' || msg.presence === 'away')
        ? { kind: 'presence', node, user: msg.user, presence: msg.presence }
        : undefined;
    case 'user_change':
      return typeof msg.user === 'string' ? { kind: 'user_change', node, user: msg.user } : undefined;
    case 'manual_presence':
      return typeof msg.user === 'string' && typeof msg.away === 'boolean'
        ? { kind: 'manual_presence', node, user: msg.user, away: msg.away }
        : undefined;
    case 'ephemeral_message':
      return typeof msg.user === 'string' && typeof msg.channel === 'string' && isObject(msg.message)
        ? { kind: 'ephemeral_message', node, user: msg.user, channel: msg.channel, message: msg.message }
        : undefined;
    case 'presence-beat':
      return Array.isArray(msg.users)
        ? { kind: 'presence-beat', node, users: msg.users.filter((u): u is string => typeof u === 'string') }
        : undefined;
    case 'revoked':
      return typeof msg.user === 'string' && typeof msg.reason === 'string' && Array.isArray(msg.tokens)
        ? {
            kind: 'revoked',
            node,
            user: msg.user,
            reason: msg.reason,
            tokens: msg.tokens.filter((t): t is string => typeof t === 'string'),
          }
        : undefined;
    default:
      return undefined;
  }
}
