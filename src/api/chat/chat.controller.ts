import { All, Controller, HttpCode, UseGuards, UsePipes } from '@nestjs/common';
import type { Caller } from '../../workspaces/workspaces.service.js';
import { CurrentCaller, SlackArgs, slackValidation } from '../slack-args.js';
import { SlackAuthGuard } from '../slack-auth.guard.js';
import { SlackRateLimitGuard } from '../slack-rate-limit.guard.js';
import { DeleteMessageArgs, PostMessageArgs, UpdateMessageArgs } from './chat.dto.js';
import { ChatService } from './chat.service.js';

@Controller('api')
@UseGuards(SlackAuthGuard, SlackRateLimitGuard)
@UsePipes(slackValidation)
export class ChatController {
  constructor(private readonly chat: ChatService) {}

  @All('chat.postMessage') @HttpCode(200)
  async postMessage(@CurrentCaller() caller: Caller, @SlackArgs() args: PostMessageArgs) {
    return { ok: true, ...(await this.chat.postMessage(caller, args)) };
  }

  @All('chat.update') @HttpCode(200)
  async update(@CurrentCaller() caller: Caller, @SlackArgs() args: UpdateMessageArgs) {
    return { ok: true, ...(await this.chat.update(caller, args)) };
  }

  @All('chat.delete') @HttpCode(200)
  async delete(@CurrentCaller() caller: Caller, @SlackArgs() args: DeleteMessageArgs) {
    return { ok: true, ...(await this.chat.delete(caller, args)) };
  }
}
