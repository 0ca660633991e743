import { Injectable } from '@nestjs/common';
import { SlackError } from '../../domain/slack-error.js';
import { formatTs, parseTs } from '../../domain/ts.js';
import { EventStore } from '../../event-store/event-store.js';
import { CustomEmojiRepository } from '../../workspaces/custom-emoji.repository.js';
import { type Caller, WorkspacesService } from '../../workspaces/workspaces.service.js';
import { ConversationsService } from '../conversations/conversations.service.js';
import { MessageExtras } from '../message-extras.js';
import { MessagesRepository } from '../messages.repository.js';
import { decodeCursor, encodeCursor, pageSize } from '../slack-args.js';
import { CUSTOM_EMOJI_NAME, standardEmoji } from '../../workspaces/emoji-names.js';
import type { GetReactionsArgs, ListReactionsArgs, ReactArgs } from './reactions.dto.js';
import { ReactionsRepository } from './reactions.repository.js';

/**
 * reactions.add/remove/get/list and emoji.list. A reaction is an event in the channel's stream
 * (reaction_added/removed) that the unread projection ignores: it never bumps a count.
 */
@Injectable()
export class ReactionsService {
  constructor(
    private readonly reactions: ReactionsRepository,
    private readonly customEmoji: CustomEmojiRepository,
    private readonly conversations: ConversationsService,
    private readonly messages: MessagesRepository,
    private readonly extras: MessageExtras,
    private readonly workspaces: WorkspacesService,
    private readonly events: EventStore,
  ) {}

  async react(caller: Caller, args: ReactArgs, add: boolean) {
    const name = await this.emojiName(caller.workspace, args.name);
    const ts = parseTs(args.timestamp);
    if (ts === undefined) throw new SlackError('message_not_found');
    const result = await this.reactions.react(caller.workspace, args.channel, caller.user.id, ts, name, add);
    if (result.error) throw new SlackError(result.error);
    this.events.noteCommitted(args.channel, Number(result.seq));
    return {};
  }

  async get(caller: Caller, args: GetReactionsArgs) {
    await this.conversations.visible(caller, args.channel);
    const ts = parseTs(args.timestamp);
    const row = ts === undefined ? undefined : await this.messages.find(args.channel, ts);
    if (!row) throw new SlackError('message_not_found');
    const [message] = await this.extras.listed(args.channel, [row]);
    return { type: 'message', channel: args.channel, message };
  }

  /** The messages a user (the caller by default) reacted to, in channels the caller may read. */
  async list(caller: Caller, args: ListReactionsArgs) {
    const user = args.user ?? caller.user.id;
    if (user !== caller.user.id && !(await this.workspaces.findUser(caller.workspace, user))) throw new SlackError('user_not_found');
    const limit = pageSize(args.limit, 100, 1000);
    const cursor = decodeCursor(args.cursor, 'item');
    // "<channel>T<ts>": ts is digits only, so the last T separates them.
    const parsed = cursor ? /^([0-9A-Z]+)T(\d{1,18})$/.exec(cursor) : ['', '', '0'];
    if (!parsed) throw new SlackError('invalid_cursor');
    const [, afterChannel, afterTs] = parsed;
    const rows = await this.reactions.reactedBy(caller.workspace, user, caller.user.id, { channel: afterChannel, ts: afterTs }, limit + 1);
    const page = rows.slice(0, limit);
    const items = [];
    for (const r of page) {
      const row = await this.messages.find(r.channel_id, BigInt(r.message_ts));
      if (!row) continue; // deleted since the listing query
      const [message] = await this.extras.listed(r.channel_id, [row]);
      items.push({ type: 'message', channel: r.channel_id, message });
    }
    const last = page[page.length - 1];
    return {
      items,
      response_metadata: { next_cursor: rows.length > limit ? encodeCursor('item', `${last.channel_id}T${last.message_ts}`) : '' },
    };
  }

  /** The workspace's custom emoji, name → image URL, as Slack's emoji.list answers. */
  async emojiList(caller: Caller) {
    const emoji = Object.fromEntries((await this.customEmoji.list(caller.workspace)).map((e) => [e.name, e.url]));
    return { emoji, cache_ts: formatTs(BigInt(Date.now()) * 1000n) };
  }

  /** The stored name: a standard emoji's canonical short name, or one of the workspace's custom emoji. */
  private async emojiName(workspace: string, given: string): Promise<string> {
    const standard = standardEmoji(given);
    if (standard) return standard;
    const bare = given.replace(/^:(.*):$/, '$1');
    if (CUSTOM_EMOJI_NAME.test(bare) && (await this.customEmoji.exists(workspace, bare))) return bare;
    throw new SlackError('invalid_name');
  }
}
