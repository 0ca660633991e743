import { All, Controller, HttpCode, UseGuards, UsePipes } from '@nestjs/common';
import type { Caller } from '../../workspaces/workspaces.service.js';
import { CurrentCaller, SlackArgs, slackValidation } from '../slack-args.js';
import { SlackAuthGuard } from '../slack-auth.guard.js';
import { SlackRateLimitGuard } from '../slack-rate-limit.guard.js';
import {
  ChannelArgs, CreateArgs, HistoryArgs, InfoArgs, InviteArgs, KickArgs, ListArgs, MarkArgs, MembersArgs, RepliesArgs,
} from './conversations.dto.js';
import { ConversationsService } from './conversations.service.js';

@Controller('api')
@UseGuards(SlackAuthGuard, SlackRateLimitGuard)
@UsePipes(slackValidation)
export class ConversationsController {
  constructor(private readonly conversations: ConversationsService) {}

  @All('conversations.create') @HttpCode(200)
  async create(@CurrentCaller() caller: Caller, @SlackArgs() args: CreateArgs) {
    return { ok: true, ...(await this.conversations.create(caller, args)) };
  }

  @All('conversations.join') @HttpCode(200)
  async join(@CurrentCaller() caller: Caller, @SlackArgs() args: ChannelArgs) {
    return { ok: true, ...(await this.conversations.join(caller, args.channel)) };
  }

  @All('conversations.invite') @HttpCode(200)
  async invite(@CurrentCaller() caller: Caller, @SlackArgs() args: InviteArgs) {
    return { ok: true, ...(await this.conversations.invite(caller, args)) };
  }

  @All('conversations.kick') @HttpCode(200)
  async kick(@CurrentCaller() caller: Caller, @SlackArgs() args: KickArgs) {
    return { ok: true, ...(await this.conversations.kick(caller, args)) };
  }

  @All('conversations.leave') @HttpCode(200)
  async leave(@CurrentCaller() caller: Caller, @SlackArgs() args: ChannelArgs) {
    return { ok: true, ...(await this.conversations.leave(caller, args.channel)) };
  }

  @All('conversations.archive') @HttpCode(200)
  async archive(@CurrentCaller() caller: Caller, @SlackArgs() args: ChannelArgs) {
    return { ok: true, ...(await this.conversations.archive(caller, args.channel)) };
  }

  @All('conversations.info') @HttpCode(200)
  async info(@CurrentCaller() caller: Caller, @SlackArgs() args: InfoArgs) {
    return { ok: true, ...(await this.conversations.info(caller, args.channel)) };
  }

  @All('conversations.list') @HttpCode(200)
  async list(@CurrentCaller() caller: Caller, @SlackArgs() args: ListArgs) {
    return { ok: true, ...(await this.conversations.list(caller, args)) };
  }

  @All('conversations.members') @HttpCode(200)
  async members(@CurrentCaller() caller: Caller, @SlackArgs() args: MembersArgs) {
    return { ok: true, ...(await this.conversations.members(caller, args)) };
  }

  @All('conversations.history') @HttpCode(200)
  async history(@CurrentCaller() caller: Caller, @SlackArgs() args: HistoryArgs) {
    return { ok: true, ...(await this.conversations.history(caller, args)) };
  }

  @All('conversations.replies') @HttpCode(200)
  async replies(@CurrentCaller() caller: Caller, @SlackArgs() args: RepliesArgs) {
    return { ok: true, ...(await this.conversations.replies(caller, args)) };
  }

  @All('conversations.mark') @HttpCode(200)
  async mark(@CurrentCaller() caller: Caller, @SlackArgs() args: MarkArgs) {
    return { ok: true, ...(await this.conversations.mark(caller, args)) };
  }
}
