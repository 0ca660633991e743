import { Injectable } from '@nestjs/common';
import { EphemeralMessages } from '../api/chat/ephemeral-messages.service.js';
import type { EphemeralMessage } from '../domain/events.js';
import { SlackError } from '../domain/slack-error.js';
import { Delivery } from './delivery.js';
import { EphemeralBus, type EphemeralSignal } from './ephemeral-bus.js';

/** PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more; the signal's own fields need a little room. */
const MAX_SIGNAL_BYTES = 7900;

/**
 * chat.postEphemeral's delivery: the message crosses to every node on the ephemeral bus (nothing is
 * stored) and each node emits `ephemeral {channel, message}` to its sockets of that one user. A user
 * with no socket open gets nothing, as in Slack.
 */
@Injectable()
export class EphemeralDeliveries {
  constructor(
    private readonly bus: EphemeralBus,
    private readonly delivery: Delivery,
    messages: EphemeralMessages,
  ) {
    messages.onEphemeral((message) => this.send(message));
    bus.subscribe((signal) => this.heard(signal));
  }

  private async send({ channel, user, message }: EphemeralMessage): Promise<void> {
    const signal: EphemeralSignal = { kind: 'ephemeral_message', node: this.bus.nodeId, user, channel, message: { ...message } };
    // Too big for one NOTIFY: refused rather than silently lost (the caller gets msg_too_long).
    if (Buffer.byteLength(JSON.stringify(signal)) > MAX_SIGNAL_BYTES) throw new SlackError('msg_too_long');
    await this.bus.publish(signal);
  }

  private heard(signal: EphemeralSignal): void {
    if (signal.kind !== 'ephemeral_message') return;
    for (const session of this.delivery.sessionsOf(signal.user)) {
      session.socket.emit('ephemeral', { channel: signal.channel, message: signal.message });
    }
  }
}
