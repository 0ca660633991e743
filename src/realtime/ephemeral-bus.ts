import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { RealtimeRepository } from './realtime.repository.js';
import { Relay } from './relay.js';

/** The NOTIFY channel of the ephemeral bus; nothing else sends on it. */
const EPHEMERAL_NOTIFY_CHANNEL = 'atomcast_ephemeral';

/** What travels on the bus. `node` is the sender (its bus's nodeId). */
export type EphemeralSignal =
  | { kind: 'typing'; node: string; channel: string; user: string }
  | { kind: 'presence'; node: string; user: string; presence: 'active' | 'away' }
  | { kind: 'presence-beat'; node: string; users: string[] }
  /** A read marker moved (REST or socket mark): the user's sockets on every node get fresh counts. */
  | { kind: 'counts'; node: string; user: string; channel: string };

/**
 * Typing, presence and counts signals between nodes: one NOTIFY channel, heard on the relay's LISTEN
 * connection (one per node). Every node hears every signal, the sender included. Nothing is stored,
 * and a lost signal is acceptable.
 */
@Injectable()
export class EphemeralBus {
  /** Tells this node's own signals apart when they come back over LISTEN. */
  readonly nodeId = randomUUID();
  private readonly subscribers: ((payload: string) => void)[] = [];

  constructor(
    relay: Relay,
    private readonly repo: RealtimeRepository,
  ) {
    relay.listen(EPHEMERAL_NOTIFY_CHANNEL, (payload) => {
      for (const subscriber of this.subscribers) subscriber(payload);
    });
  }

  /** Sends a signal to every node; never throws (NOTIFY payloads must stay under 8,000 bytes). */
  async publish(signal: EphemeralSignal): Promise<void> {
    await this.repo.notify(EPHEMERAL_NOTIFY_CHANNEL, JSON.stringify(signal)).catch(() => {});
  }

  /** Hears every signal as sent (JSON text, from any node and any version: parse defensively). */
  subscribe(subscriber: (payload: string) => void): void {
    this.subscribers.push(subscriber);
  }
}
