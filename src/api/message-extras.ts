import { Injectable } from '@nestjs/common';
import { type MessageRow, type SlackMessage, toListedMessage } from '../domain/message.js';
import { PinsRepository } from './pins/pins.repository.js';
import { ReactionsRepository } from './reactions/reactions.repository.js';

/**
 * Messages as the listings show them (history, replies, reactions.get, pins.list): Slack's message
 * object plus its `reactions` and `pinned_to`, read for a whole page in two queries.
 */
@Injectable()
export class MessageExtras {
  constructor(
    private readonly reactions: ReactionsRepository,
    private readonly pins: PinsRepository,
  ) {}

  async listed(channel: string, rows: MessageRow[]): Promise<Array<SlackMessage | Record<string, unknown>>> {
    const live = rows.filter((r) => !r.deleted).map((r) => r.ts);
    const [reactions, pinned] = await Promise.all([this.reactions.forMessages(channel, live), this.pins.pinnedAmong(channel, live)]);
    return rows.map((row) => {
      const msg = toListedMessage(row);
      if (row.deleted) return msg;
      const theirs = reactions.get(row.ts);
      return { ...msg, ...(theirs ? { reactions: theirs } : {}), ...(pinned.has(row.ts) ? { pinned_to: [channel] } : {}) };
    });
  }
}
