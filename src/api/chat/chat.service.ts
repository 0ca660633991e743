import { Injectable } from '@nestjs/common';
import { BodyCipher, withEkmRetry } from '../../crypto/body-cipher.js';
import { EventStore, type StreamTransaction } from '../../event-store/event-store.js';
import { channelPolicy, enforce } from '../../domain/channel-policy.js';
import { toSlackMessage } from '../../domain/message.js';
import { botIdentity, hasContent, packBody, parseMessageContent, posterIdentity, richOrNothing } from '../../domain/message-content.js';
import { SlackError } from '../../domain/slack-error.js';
import { formatTs, requireTs } from '../../domain/ts.js';
import type { Caller } from '../../workspaces/workspaces.service.js';
import { ChannelsRepository } from '../channels.repository.js';
import { type EditedBody, MessagesRepository } from '../messages.repository.js';
import type { DeleteMessageArgs, PostMessageArgs, UpdateMessageArgs } from './chat.dto.js';
import { ChatRepository, type PostMessage, type Posted } from './chat.repository.js';

@Injectable()
export class ChatService {
  constructor(
    private readonly events: EventStore,
    private readonly chat: ChatRepository,
    private readonly channels: ChannelsRepository,
    private readonly messages: MessagesRepository,
    private readonly cipher: BodyCipher,
  ) {}

  /**
   * chat.postMessage (and chat.meMessage, with its subtype). Blocks and attachments are checked
   * before anything is written: a refusal (invalid_blocks, no_text, ...) leaves no trace.
   */
  async postMessage(caller: Caller, args: PostMessageArgs, subtype?: 'me_message') {
    const content = parseMessageContent(args);
    // The poster's identity (bot_id, bot_profile, overrides) is stored with the message, so history,
    // replies, socket events and the Events API show it as the post's answer does.
    const identity = posterIdentity(caller.user, caller.workspace, args);
    const rich = richOrNothing({ blocks: content.blocks, attachments: content.attachments, subtype, ...identity });
    if (!hasContent(content.text, rich)) throw new SlackError('no_text');
    const posted = await this.post({
      workspace: caller.workspace,
      channel: args.channel,
      user: caller.user.id,
      text: content.text,
      threadTs: args.thread_ts === undefined ? undefined : requireTs(args.thread_ts, 'thread_not_found'),
      // reply_broadcast means something only for a thread reply (Slack ignores it otherwise).
      replyBroadcast: args.thread_ts === undefined ? undefined : args.reply_broadcast,
      clientMsgId: args.client_msg_id,
      rich,
    });
    const ts = formatTs(posted.ts);
    if (posted.duplicate) {
      // A retry answers with the message that was stored (the first attempt's text), not its own;
      // only retries pay for this read. A message deleted since has no text to show.
      const stored = await this.messages.find(args.channel, BigInt(posted.ts));
      const message = stored
        ? toSlackMessage(stored)
        : { type: 'message', user: caller.user.id, text: '', ts, client_msg_id: args.client_msg_id };
      return { channel: args.channel, ts, seq: posted.seq, message };
    }
    const message: Record<string, unknown> = {
      type: 'message',
      ...(subtype ? { subtype } : {}),
      user: caller.user.id,
      text: content.text,
      ts,
    };
    // A bot's message says so, as Slack's do (apps recognise their own messages by bot_id).
    Object.assign(message, identity);
    if (posted.threadTs) message.thread_ts = formatTs(posted.threadTs);
    if (args.client_msg_id) message.client_msg_id = args.client_msg_id;
    if (rich?.blocks) message.blocks = rich.blocks;
    if (rich?.attachments) message.attachments = rich.attachments;
    return { channel: args.channel, ts, seq: posted.seq, message };
  }

  /** Gets the channel's day key (EKM; possibly a KMS round trip) outside any lock, then appends. */
  private post(cmd: PostMessage): Promise<Posted> {
    return withEkmRetry(async (fresh) => this.chat.postMessage(cmd, await this.cipher.sealer(cmd.workspace, cmd.channel, fresh)));
  }

  /**
   * Author or workspace admin only; the edit is an event and the body changes in place. The body
   * is sealed first (possibly a KMS round trip, and it may create the channel's data key of the
   * day), so the channel stays locked only for the check, the append and the body update. A caller
   * the rules refuse is refused before the seal: nothing is written on bad input.
   */
  async update(caller: Caller, args: UpdateMessageArgs) {
    const ts = requireTs(args.ts, 'message_not_found');
    const content = parseMessageContent(args);
    if (args.text === undefined && content.blocks === undefined && content.attachments === undefined) throw new SlackError('no_text');
    const facts = await this.editFacts(caller, args.channel, ts);
    enforce(channelPolicy('edit', facts));
    // Blocks or attachments left out stay as they were (Slack's rule; [] removes them), and so does
    // a me_message's subtype: read the message as it is now (opened, under EKM).
    const current = (await this.messages.find(args.channel, ts))?.rich ?? undefined;
    const rich = richOrNothing({
      blocks: content.blocks ?? current?.blocks,
      attachments: content.attachments ?? current?.attachments,
      subtype: current?.subtype,
      ...botIdentity(current),
    });
    if (!hasContent(content.text, rich)) throw new SlackError('no_text');
    // A body opens only for its own message: sealed for the message's seq and author, not the editor.
    const owner = { seq: facts.message!.seq, user: facts.message!.user_id };
    const packed = packBody(content.text, rich);
    const seal = async (fresh: boolean): Promise<EditedBody> => {
      const body = await this.cipher.seal(caller.workspace, args.channel, packed, owner, fresh);
      // Outside EKM the text and the rich content go to their own columns.
      return body.bodyEnc ? { ...body, rich: undefined } : { ...body, text: content.text, rich };
    };
    return withEkmRetry(async (fresh) => this.applyEdit(caller, args, ts, await seal(fresh)));
  }

  private applyEdit(caller: Caller, args: UpdateMessageArgs, ts: bigint, body: EditedBody) {
    return this.events.transaction(async (tx) => {
      const target = await this.lockedMessage(tx, caller, args.channel, ts, 'edit');
      const appended = await tx.append(args.channel, 'message_changed', caller.user.id, { message_ts: Number(target.ts) });
      const row = await this.messages.edit(tx.db, args.channel, ts, body, appended.ts, caller.user.id);
      return { channel: args.channel, ts: formatTs(ts), text: row.text ?? '', seq: appended.seq, message: toSlackMessage(row) };
    });
  }

  async delete(caller: Caller, args: DeleteMessageArgs) {
    const ts = requireTs(args.ts, 'message_not_found');
    return this.events.transaction(async (tx) => {
      const target = await this.lockedMessage(tx, caller, args.channel, ts, 'delete');
      const appended = await tx.append(args.channel, 'message_deleted', caller.user.id, { message_ts: Number(target.ts) });
      await this.messages.delete(tx.db, target);
      return { channel: args.channel, ts: formatTs(ts), seq: appended.seq };
    });
  }

  /** Locks the channel and returns the message `action` may change (channelPolicy decides). */
  private async lockedMessage(tx: StreamTransaction, caller: Caller, channel: string, ts: bigint, action: 'edit' | 'delete') {
    const head = await tx.lockChannel(channel, caller.workspace);
    const member = head ? await this.channels.isMember(tx.db, channel, caller.user.id) : false;
    // Read without its body: nothing is opened (EKM) for a caller the rules refuse.
    const message = head ? await this.messages.target(channel, ts, tx.db) : undefined;
    enforce(channelPolicy(action, { head, caller: caller.user, member, message }));
    return message!;
  }

  /** The facts channelPolicy('edit') needs, read without a lock (checked again under it). */
  private async editFacts(caller: Caller, channel: string, ts: bigint) {
    const head = await this.channels.find(caller.workspace, channel, caller.user.id);
    const message = head ? await this.messages.target(channel, ts) : undefined;
    return { head, caller: caller.user, member: head?.is_member ?? false, message };
  }
}
