import { Injectable } from '@nestjs/common';
import { channelPolicy, enforce } from '../../domain/channel-policy.js';
import { SlackError } from '../../domain/slack-error.js';
import { parseTs } from '../../domain/ts.js';
import { EventStore } from '../../event-store/event-store.js';
import type { Caller } from '../../workspaces/workspaces.service.js';
import { ChannelsRepository } from '../channels.repository.js';
import { ConversationsService } from '../conversations/conversations.service.js';
import { MessageExtras } from '../message-extras.js';
import { MessagesRepository } from '../messages.repository.js';
import type { ItemArgs } from '../reactions/reactions.dto.js';
import { PinsRepository } from './pins.repository.js';

/** pins.add/remove/list: the pin row and its pin_added/pin_removed event in one transaction under the channel lock. */
@Injectable()
export class PinsService {
  constructor(
    private readonly events: EventStore,
    private readonly pins: PinsRepository,
    private readonly channels: ChannelsRepository,
    private readonly messages: MessagesRepository,
    private readonly conversations: ConversationsService,
    private readonly extras: MessageExtras,
  ) {}

  async change(caller: Caller, args: ItemArgs, pin: boolean) {
    const ts = parseTs(args.timestamp);
    await this.events.transaction(async (tx) => {
      const head = await tx.lockChannel(args.channel, caller.workspace);
      const member = head ? await this.channels.isMember(tx.db, args.channel, caller.user.id) : false;
      enforce(channelPolicy('pin', { head, caller: caller.user, member }));
      const target = ts === undefined ? undefined : await this.messages.target(args.channel, ts, tx.db);
      if (!target) throw new SlackError('message_not_found');
      if (pin) {
        if (await this.pins.isPinned(tx.db, args.channel, target.ts)) throw new SlackError('already_pinned');
        const added = await tx.append(args.channel, 'pin_added', caller.user.id, { item_ts: Number(target.ts) });
        await this.pins.add(tx.db, args.channel, target.ts, caller.user.id, added.seq);
      } else {
        if (!(await this.pins.remove(tx.db, args.channel, target.ts))) throw new SlackError('no_pin');
        await tx.append(args.channel, 'pin_removed', caller.user.id, { item_ts: Number(target.ts) });
      }
    });
    return {};
  }

  async list(caller: Caller, channel: string) {
    await this.conversations.visible(caller, channel);
    const items = [];
    for (const pin of await this.pins.list(channel)) {
      const row = await this.messages.find(channel, BigInt(pin.message_ts));
      if (!row) continue; // deleted since the listing query
      const [message] = await this.extras.listed(channel, [row]);
      items.push({ type: 'message', created: Math.floor(pin.created_at.getTime() / 1000), created_by: pin.pinned_by, channel, message });
    }
    return { items };
  }
}
