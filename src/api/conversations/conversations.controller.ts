import type { Caller } from '../../workspaces/workspaces.service.js';
import { CurrentCaller, SlackArgs } from '../slack-args.js';
import { SlackMethod, SlackMethods } from '../slack-method.js';
import {
  ChannelArgs,
  CreateArgs,
  HistoryArgs,
  InfoArgs,
  InviteArgs,
  KickArgs,
  ListArgs,
  MarkArgs,
  MembersArgs,
  OpenArgs,
  PurposeArgs,
  RenameArgs,
  RepliesArgs,
  TopicArgs,
  UsersConversationsArgs,
} from './conversations.dto.js';
import { DirectMessagesService } from './direct-messages.service.js';
import { ChannelSettingsService } from './channel-settings.service.js';
import { ConversationsService } from './conversations.service.js';

@SlackMethods()
export class ConversationsController {
  constructor(
    private readonly conversations: ConversationsService,
    private readonly settings: ChannelSettingsService,
    private readonly dms: DirectMessagesService,
  ) {}

  @SlackMethod('conversations.create')
  async create(@CurrentCaller() caller: Caller, @SlackArgs() args: CreateArgs) {
    return this.conversations.create(caller, args);
  }

  @SlackMethod('conversations.join')
  async join(@CurrentCaller() caller: Caller, @SlackArgs() args: ChannelArgs) {
    return this.conversations.join(caller, args.channel);
  }

  @SlackMethod('conversations.invite')
  async invite(@CurrentCaller() caller: Caller, @SlackArgs() args: InviteArgs) {
    return this.conversations.invite(caller, args);
  }

  @SlackMethod('conversations.kick')
  async kick(@CurrentCaller() caller: Caller, @SlackArgs() args: KickArgs) {
    return this.conversations.kick(caller, args);
  }

  @SlackMethod('conversations.leave')
  async leave(@CurrentCaller() caller: Caller, @SlackArgs() args: ChannelArgs) {
    return this.conversations.leave(caller, args.channel);
  }

  @SlackMethod('conversations.archive')
  async archive(@CurrentCaller() caller: Caller, @SlackArgs() args: ChannelArgs) {
    return this.conversations.archive(caller, args.channel);
  }

  @SlackMethod('conversations.info')
  async info(@CurrentCaller() caller: Caller, @SlackArgs() args: InfoArgs) {
    return this.conversations.info(caller, args.channel, args.include_num_members);
  }

  @SlackMethod('conversations.list')
  async list(@CurrentCaller() caller: Caller, @SlackArgs() args: ListArgs) {
    return this.conversations.list(caller, args);
  }

  @SlackMethod('conversations.members')
  async members(@CurrentCaller() caller: Caller, @SlackArgs() args: MembersArgs) {
    return this.conversations.members(caller, args);
  }

  @SlackMethod('conversations.history')
  async history(@CurrentCaller() caller: Caller, @SlackArgs() args: HistoryArgs) {
    return this.conversations.history(caller, args);
  }

  @SlackMethod('conversations.replies')
  async replies(@CurrentCaller() caller: Caller, @SlackArgs() args: RepliesArgs) {
    return this.conversations.replies(caller, args);
  }

  @SlackMethod('conversations.mark')
  async mark(@CurrentCaller() caller: Caller, @SlackArgs() args: MarkArgs) {
    return this.conversations.mark(caller, args);
  }

  @SlackMethod('conversations.unarchive')
  async unarchive(@CurrentCaller() caller: Caller, @SlackArgs() args: ChannelArgs) {
    return this.settings.unarchive(caller, args.channel);
  }

  @SlackMethod('conversations.rename')
  async rename(@CurrentCaller() caller: Caller, @SlackArgs() args: RenameArgs) {
    return this.settings.rename(caller, args.channel, args.name);
  }

  @SlackMethod('conversations.setTopic')
  async setTopic(@CurrentCaller() caller: Caller, @SlackArgs() args: TopicArgs) {
    return this.settings.describe(caller, args.channel, 'topic', args.topic);
  }

  @SlackMethod('conversations.setPurpose')
  async setPurpose(@CurrentCaller() caller: Caller, @SlackArgs() args: PurposeArgs) {
    return this.settings.describe(caller, args.channel, 'purpose', args.purpose);
  }

  @SlackMethod('conversations.open')
  async open(@CurrentCaller() caller: Caller, @SlackArgs() args: OpenArgs) {
    return this.dms.open(caller, args);
  }

  @SlackMethod('conversations.close')
  async close(@CurrentCaller() caller: Caller, @SlackArgs() args: ChannelArgs) {
    return this.dms.close(caller, args.channel);
  }

  @SlackMethod('users.conversations')
  async usersConversations(@CurrentCaller() caller: Caller, @SlackArgs() args: UsersConversationsArgs) {
    return this.dms.usersConversations(caller, args);
  }
}
