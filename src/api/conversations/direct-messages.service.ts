import { Injectable } from '@nestjs/common';
import { toSlackChannel } from '../../domain/channel.js';
import { channelPolicy, createPolicy, enforce } from '../../domain/channel-policy.js';
import { newImId, newMpimId } from '../../domain/ids.js';
import { SlackError } from '../../domain/slack-error.js';
import { EventStore } from '../../event-store/event-store.js';
import { type Caller, WorkspacesService } from '../../workspaces/workspaces.service.js';
import { ChannelsRepository } from '../channels.repository.js';
import type { OpenArgs, UsersConversationsArgs } from './conversations.dto.js';
import { ConversationsService } from './conversations.service.js';

/** Slack's limit: a group DM holds the caller and at most 8 others. */
const MAX_OTHERS = 8;

/**
 * conversations.open / close and users.conversations. A DM is a private channel row of kind `im`
 * or `mpim` whose members are fixed at creation (channelPolicy refuses join/invite/kick/leave), so
 * everything else (history, post, mark, counts, sockets, retention, EKM) works on it unchanged.
 */
@Injectable()
export class DirectMessagesService {
  constructor(
    private readonly events: EventStore,
    private readonly channels: ChannelsRepository,
    private readonly workspaces: WorkspacesService,
    private readonly conversations: ConversationsService,
  ) {}

  async open(caller: Caller, args: OpenArgs) {
    if (args.channel !== undefined && !args.users) return this.reopen(caller, args.channel, args.return_im);
    enforce(createPolicy(caller.user.role));
    const others = [
      ...new Set(
        (args.users ?? '')
          .split(',')
          .map((u) => u.trim())
          .filter(Boolean),
      ),
    ];
    if (!others.length) throw new SlackError('users_list_not_supplied');
    if (others.filter((u) => u !== caller.user.id).length > MAX_OTHERS) throw new SlackError('too_many_users');
    for (const id of others) {
      const user = id === caller.user.id ? caller.user : await this.workspaces.findUser(caller.workspace, id);
      if (!user) throw new SlackError('user_not_found');
      if ('deleted' in user && user.deleted) throw new SlackError('user_disabled');
    }
    const members = [...new Set([caller.user.id, ...others])].sort();
    const kind = members.length <= 2 ? 'im' : 'mpim';
    const result = await this.events.transaction(async (tx) => {
      const dm = await this.channels.insertDm(tx.db, {
        id: kind === 'im' ? newImId() : newMpimId(),
        workspace: caller.workspace,
        kind,
        memberKey: members.join(','),
        creator: caller.user.id,
      });
      if (dm.created) {
        await tx.append(dm.id, 'channel_created', caller.user.id, { name: dm.id, is_private: true, kind });
        for (const member of members) {
          const joined = await tx.append(dm.id, 'member_joined_channel', member);
          await this.channels.addMember(tx.db, dm.id, member, joined.seq);
        }
        return { id: dm.id, wasOpen: false };
      }
      return { id: dm.id, wasOpen: (await this.channels.setOpen(dm.id, caller.user.id, true, tx.db)) ?? false };
    });
    return this.answer(caller, result.id, result.wasOpen, args.return_im || kind === 'mpim');
  }

  async close(caller: Caller, channel: string) {
    const row = await this.conversations.visible(caller, channel);
    if (row.kind !== 'im' && row.kind !== 'mpim') throw new SlackError('method_not_supported_for_channel_type');
    const wasOpen = await this.channels.setOpen(channel, caller.user.id, false);
    return wasOpen ? {} : { no_op: true, already_closed: true };
  }

  /** The conversations a user (the caller by default) belongs to, of the given types, paginated. */
  async usersConversations(caller: Caller, args: UsersConversationsArgs) {
    const member = args.user ?? caller.user.id;
    if (member !== caller.user.id && !(await this.workspaces.findUser(caller.workspace, member))) throw new SlackError('user_not_found');
    return this.conversations.list(caller, { ...args, member });
  }

  private async reopen(caller: Caller, channel: string, returnIm?: boolean) {
    const row = await this.conversations.visible(caller, channel);
    if (row.kind !== 'im' && row.kind !== 'mpim') throw new SlackError('method_not_supported_for_channel_type');
    enforce(channelPolicy('mark', { head: row, caller: caller.user, member: row.is_member }));
    const wasOpen = (await this.channels.setOpen(channel, caller.user.id, true)) ?? false;
    return this.answer(caller, channel, wasOpen, returnIm || row.kind === 'mpim');
  }

  private async answer(caller: Caller, id: string, wasOpen: boolean, full: boolean | undefined) {
    const channel = full ? toSlackChannel((await this.channels.find(caller.workspace, id, caller.user.id))!) : { id };
    return { channel, ...(wasOpen ? { no_op: true, already_open: true } : {}) };
  }
}
