import { Injectable } from '@nestjs/common';
import { type ChannelRow, channelNameError, toSlackChannel } from '../../domain/channel.js';
import { type ChannelAction, channelPolicy, createPolicy, enforce } from '../../domain/channel-policy.js';
import { newChannelId } from '../../domain/ids.js';
import { SlackError } from '../../domain/slack-error.js';
import { formatTs, requireTs } from '../../domain/ts.js';
import { EventStore, type StreamTransaction } from '../../event-store/event-store.js';
import { type Caller, WorkspacesService } from '../../workspaces/workspaces.service.js';
import { ChannelsRepository, type ConversationType } from '../channels.repository.js';
import { MessageExtras } from '../message-extras.js';
import { MessagesRepository } from '../messages.repository.js';
import { PinsRepository } from '../pins/pins.repository.js';
import { UnreadCountsRepository } from '../../projections/unread/unread-counts.repository.js';
import { decodeCursor, decodeTsCursor, encodeCursor, pageSize } from '../slack-args.js';
import type { CreateArgs, HistoryArgs, InviteArgs, KickArgs, ListArgs, MarkArgs, MembersArgs, RepliesArgs } from './conversations.dto.js';

const NEWEST = 2n ** 63n - 1n;

const TYPES = new Set<string>(['public_channel', 'private_channel', 'im', 'mpim']);

/** `types=public_channel,im`: Slack's default is public channels; an unknown type is invalid_types. */
function conversationTypes(types: string | undefined): ConversationType[] {
  const list = (types ?? 'public_channel')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  if (list.some((t) => !TYPES.has(t))) throw new SlackError('invalid_types');
  return list as ConversationType[];
}

@Injectable()
export class ConversationsService {
  /** Told when a read marker moved; real-time delivery pushes fresh counts (the api knows no sockets). */
  private readonly markListeners: ((user: string, channel: string) => void)[] = [];

  constructor(
    private readonly events: EventStore,
    private readonly channels: ChannelsRepository,
    private readonly messages: MessagesRepository,
    private readonly workspaces: WorkspacesService,
    private readonly unread: UnreadCountsRepository,
    private readonly extras: MessageExtras,
    private readonly pins: PinsRepository,
  ) {}

  /** The channel if the caller may read it: public ones, or private ones they belong to. */
  async visible(caller: Caller, id: string): Promise<ChannelRow> {
    const channel = await this.channels.find(caller.workspace, id, caller.user.id);
    enforce(channelPolicy('read', { head: channel, caller: caller.user, member: channel?.is_member ?? false }));
    return channel!;
  }

  async create(caller: Caller, args: CreateArgs) {
    enforce(createPolicy(caller.user.role));
    const invalid = channelNameError(args.name);
    if (invalid) throw new SlackError(invalid);
    const id = newChannelId();
    return this.events.transaction(async (tx) => {
      const inserted = await this.channels.insert(tx.db, {
        id,
        workspace: caller.workspace,
        name: args.name,
        isPrivate: args.is_private ?? false,
        creator: caller.user.id,
      });
      if (!inserted) throw new SlackError('name_taken');
      await tx.append(id, 'channel_created', caller.user.id, { name: args.name, is_private: args.is_private ?? false });
      const joined = await tx.append(id, 'member_joined_channel', caller.user.id);
      await this.channels.addMember(tx.db, id, caller.user.id, joined.seq);
      return { channel: toSlackChannel((await this.channels.find(caller.workspace, id, caller.user.id, tx.db))!) };
    });
  }

  async join(caller: Caller, channel: string) {
    return this.events.transaction(async (tx) => {
      const { member } = await this.lock(tx, caller, channel, 'join');
      const result: Record<string, unknown> = {};
      if (member) {
        Object.assign(result, { warning: 'already_in_channel', response_metadata: { warnings: ['already_in_channel'] } });
      } else {
        const joined = await tx.append(channel, 'member_joined_channel', caller.user.id);
        await this.channels.addMember(tx.db, channel, caller.user.id, joined.seq);
      }
      return { channel: toSlackChannel((await this.channels.find(caller.workspace, channel, caller.user.id, tx.db))!), ...result };
    });
  }

  async invite(caller: Caller, args: InviteArgs) {
    const users = [
      ...new Set(
        args.users
          .split(',')
          .map((u) => u.trim())
          .filter(Boolean),
      ),
    ];
    if (!users.length) throw new SlackError('no_user');
    if (users.length > 1000) throw new SlackError('too_many_users');
    if (users.includes(caller.user.id)) throw new SlackError('cant_invite_self');
    return this.events.transaction(async (tx) => {
      await this.lock(tx, caller, args.channel, 'invite');
      let added = 0;
      for (const user of users) {
        const target = await this.workspaces.findUser(caller.workspace, user);
        if (!target || target.deleted) throw new SlackError('user_not_found');
        if (await this.channels.isMember(tx.db, args.channel, user)) continue;
        const joined = await tx.append(args.channel, 'member_joined_channel', user, { inviter: caller.user.id });
        await this.channels.addMember(tx.db, args.channel, user, joined.seq);
        added++;
      }
      if (!added) throw new SlackError('already_in_channel');
      return { channel: toSlackChannel((await this.channels.find(caller.workspace, args.channel, caller.user.id, tx.db))!) };
    });
  }

  /** Workspace admins and the channel's creator may remove members. */
  async kick(caller: Caller, args: KickArgs) {
    if (args.user === caller.user.id) throw new SlackError('cant_kick_self');
    return this.events.transaction(async (tx) => {
      await this.lock(tx, caller, args.channel, 'kick');
      const target = await this.workspaces.findUser(caller.workspace, args.user);
      if (!target) throw new SlackError('user_not_found');
      if (!(await this.channels.isMember(tx.db, args.channel, args.user))) throw new SlackError('not_in_channel');
      await tx.append(args.channel, 'member_left_channel', args.user, { kicked_by: caller.user.id });
      await this.channels.removeMember(tx.db, args.channel, args.user);
      return {};
    });
  }

  async leave(caller: Caller, channel: string) {
    return this.events.transaction(async (tx) => {
      const { head, member } = await this.lock(tx, caller, channel, 'leave');
      if (!member) return { not_in_channel: true };
      // Nobody can join a private channel on their own, so its last member leaving would orphan it.
      if (head.is_private && (await this.channels.memberIds(channel, '', 2, tx.db)).length === 1) throw new SlackError('last_member');
      await tx.append(channel, 'member_left_channel', caller.user.id);
      await this.channels.removeMember(tx.db, channel, caller.user.id);
      return {};
    });
  }

  async archive(caller: Caller, channel: string) {
    return this.events.transaction(async (tx) => {
      await this.lock(tx, caller, channel, 'archive');
      await tx.append(channel, 'channel_archive', caller.user.id);
      await this.channels.archive(tx.db, channel);
      return {};
    });
  }

  async info(caller: Caller, channel: string, includeNumMembers = false) {
    const row = await this.visible(caller, channel);
    if (includeNumMembers) row.num_members = await this.channels.countMembers(channel);
    // Members also get their read marker and counts, from the unread projection.
    const counts = row.is_member ? await this.unread.forChannel(caller.user.id, channel) : undefined;
    return {
      channel: {
        ...toSlackChannel(row),
        ...(counts && { last_read: formatTs(counts.lastRead), unread_count: counts.unread, unread_count_display: counts.unread }),
      },
    };
  }

  /** conversations.list, and users.conversations (`member` set: conversations that user belongs to). */
  async list(caller: Caller, args: ListArgs & { member?: string }) {
    const limit = pageSize(args.limit, 100, 1000);
    const rows = await this.channels.list(caller.workspace, caller.user.id, {
      types: conversationTypes(args.types),
      member: args.member,
      excludeArchived: args.exclude_archived ?? false,
      afterId: decodeCursor(args.cursor, 'id') ?? '',
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    return {
      channels: page.map(toSlackChannel),
      response_metadata: { next_cursor: rows.length > limit ? encodeCursor('id', page[page.length - 1].id) : '' },
    };
  }

  async members(caller: Caller, args: MembersArgs) {
    await this.visible(caller, args.channel);
    const limit = pageSize(args.limit, 100, 1000);
    const ids = await this.channels.memberIds(args.channel, decodeCursor(args.cursor, 'user') ?? '', limit + 1);
    const page = ids.slice(0, limit);
    return {
      members: page,
      response_metadata: { next_cursor: ids.length > limit ? encodeCursor('user', page[page.length - 1]) : '' },
    };
  }

  /** Newest first, between oldest and latest (exclusive unless `inclusive`); the cursor continues below the last ts. */
  async history(caller: Caller, args: HistoryArgs) {
    await this.visible(caller, args.channel);
    const oldest = args.oldest === undefined ? 0n : requireTs(args.oldest, 'invalid_ts_oldest');
    const latest = args.latest === undefined ? NEWEST : requireTs(args.latest, 'invalid_ts_latest');
    const before = decodeTsCursor(args.cursor, 'next_ts');
    // ts are whole microseconds, so exclusive bounds are the inclusive ones moved by one.
    const edge = args.inclusive ? 0n : 1n;
    const limit = pageSize(args.limit, 100, 999);
    const rows = await this.messages.history(args.channel, oldest + edge, before !== undefined ? before - 1n : latest - edge, limit + 1);
    const page = rows.slice(0, limit);
    const hasMore = rows.length > limit;
    return {
      messages: await this.extras.listed(args.channel, page),
      has_more: hasMore,
      pin_count: await this.pins.count(args.channel),
      response_metadata: { next_cursor: hasMore ? encodeCursor('next_ts', page[page.length - 1].ts) : '' },
    };
  }

  /** The parent first, then its replies oldest first. */
  async replies(caller: Caller, args: RepliesArgs) {
    await this.visible(caller, args.channel);
    const ts = requireTs(args.ts, 'thread_not_found');
    const found = await this.messages.findListed(args.channel, ts);
    if (!found) throw new SlackError('thread_not_found');
    const root = found.thread_ts ? await this.messages.findListed(args.channel, BigInt(found.thread_ts)) : found;
    if (!root) throw new SlackError('thread_not_found');
    const after = decodeTsCursor(args.cursor, 'after_ts');
    const limit = pageSize(args.limit, 1000, 1000);
    // The parent takes one place of the first page (limit=1: the parent alone), so no page exceeds limit.
    const replyLimit = after === undefined ? limit - 1 : limit;
    const rows = await this.messages.replies(args.channel, BigInt(root.ts), after ?? 0n, replyLimit + 1);
    const page = rows.slice(0, replyLimit);
    const hasMore = rows.length > replyLimit;
    const lastTs = page.length ? page[page.length - 1].ts : root.ts;
    return {
      messages: await this.extras.listed(args.channel, [...(after === undefined ? [root] : []), ...page]),
      has_more: hasMore,
      response_metadata: { next_cursor: hasMore ? encodeCursor('after_ts', lastTs) : '' },
    };
  }

  async mark(caller: Caller, args: MarkArgs) {
    const channel = await this.visible(caller, args.channel);
    const ts = requireTs(args.ts, 'invalid_timestamp');
    enforce(channelPolicy('mark', { head: channel, caller: caller.user, member: channel.is_member }));
    // The membership may end between the check and the update.
    const marked = await this.channels.markRead(args.channel, caller.user.id, ts);
    if (!marked) throw new SlackError('not_in_channel');
    if (marked.moved) for (const listener of this.markListeners) listener(caller.user.id, args.channel);
    return {};
  }

  /** Calls `listener(user, channel)` after every mark that moved a read marker forward. */
  onMarked(listener: (user: string, channel: string) => void): void {
    this.markListeners.push(listener);
  }

  /** Locks the channel for a membership or state change that channelPolicy allows `action`. */
  private async lock(tx: StreamTransaction, caller: Caller, channel: string, action: ChannelAction) {
    const head = await tx.lockChannel(channel, caller.workspace);
    const member = head ? await this.channels.isMember(tx.db, channel, caller.user.id) : false;
    enforce(channelPolicy(action, { head, caller: caller.user, member }));
    return { head: head!, member };
  }
}
