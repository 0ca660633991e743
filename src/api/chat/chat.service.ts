import { Injectable } from '@nestjs/common';
import { BodyCipher } from '../../crypto/body-cipher.js';
import { EventStore, type StreamTransaction } from '../../event-store/event-store.js';
import { toSlackMessage } from '../../domain/message.js';
import { SlackError } from '../../domain/slack-error.js';
import { formatTs, requireTs } from '../../domain/ts.js';
import type { Caller } from '../../workspaces/workspaces.service.js';
import { ChannelsRepository } from '../channels.repository.js';
import { MessagesRepository } from '../messages.repository.js';
import type { DeleteMessageArgs, PostMessageArgs, UpdateMessageArgs } from './chat.dto.js';

@Injectable()
export class ChatService {
  constructor(
    private readonly events: EventStore,
    private readonly channels: ChannelsRepository,
    private readonly messages: MessagesRepository,
    private readonly cipher: BodyCipher,
  ) {}

  async postMessage(caller: Caller, args: PostMessageArgs) {
    const posted = await this.events.postMessage({
      workspace: caller.workspace,
      channel: args.channel,
      user: caller.user.id,
      text: args.text,
      threadTs: args.thread_ts === undefined ? undefined : requireTs(args.thread_ts, 'thread_not_found'),
      // reply_broadcast means something only for a thread reply (Slack ignores it otherwise).
      replyBroadcast: args.thread_ts === undefined ? undefined : args.reply_broadcast,
      clientMsgId: args.client_msg_id,
    });
    const ts = formatTs(posted.ts);
    if (posted.duplicate) {
      // A retry answers with the message that was stored (the first attempt's text), not its own;
      // only retries pay for this read. A message deleted since has no text to show.
      const stored = await this.messages.find(args.channel, BigInt(posted.ts));
      const message = stored ? toSlackMessage(stored) : { type: 'message', user: caller.user.id, text: '', ts, client_msg_id: args.client_msg_id };
      return { channel: args.channel, ts, seq: posted.seq, message };
    }
    const message: Record<string, unknown> = { type: 'message', user: caller.user.id, text: args.text, ts };
    if (posted.threadTs) message.thread_ts = formatTs(posted.threadTs);
    if (args.client_msg_id) message.client_msg_id = args.client_msg_id;
    return { channel: args.channel, ts, seq: posted.seq, message };
  }

  /** Author or workspace admin only; the edit is an event and the body changes in place. */
  async update(caller: Caller, args: UpdateMessageArgs) {
    const ts = requireTs(args.ts, 'message_not_found');
    return this.events.transaction(async (tx) => {
      const target = await this.lockedMessage(tx, caller, args.channel, ts, 'cant_update_message');
      const appended = await tx.append(args.channel, 'message_changed', caller.user.id, { message_ts: Number(target.ts) });
      const body = await this.cipher.seal(caller.workspace, args.channel, args.text, { seq: target.seq, user: target.user_id });
      const row = await this.messages.edit(tx.db, args.channel, ts, body, appended.ts, caller.user.id);
      return { channel: args.channel, ts: formatTs(ts), text: args.text, seq: appended.seq, message: toSlackMessage(row) };
    });
  }

  async delete(caller: Caller, args: DeleteMessageArgs) {
    const ts = requireTs(args.ts, 'message_not_found');
    return this.events.transaction(async (tx) => {
      const target = await this.lockedMessage(tx, caller, args.channel, ts, 'cant_delete_message');
      const appended = await tx.append(args.channel, 'message_deleted', caller.user.id, { message_ts: Number(target.ts) });
      await this.messages.delete(tx.db, target);
      return { channel: args.channel, ts: formatTs(ts), seq: appended.seq };
    });
  }

  private async lockedMessage(tx: StreamTransaction, caller: Caller, channel: string, ts: bigint, forbidden: string) {
    const head = await tx.lockChannel(channel, caller.workspace);
    if (!head) throw new SlackError('channel_not_found');
    const member = await this.channels.isMember(tx.db, channel, caller.user.id);
    if (head.is_private && !member) throw new SlackError('channel_not_found');
    if (head.is_archived) throw new SlackError('is_archived');
    const target = await this.messages.find(channel, ts, tx.db);
    if (!target) throw new SlackError('message_not_found');
    if (target.user_id !== caller.user.id && caller.user.role !== 'admin') throw new SlackError(forbidden);
    return target;
  }
}
