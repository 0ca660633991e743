import type { FastifyRequest } from 'fastify';
import { Req } from '@nestjs/common';
import { SlackError } from '../../domain/slack-error.js';
import type { Caller } from '../../workspaces/workspaces.service.js';
import { AppsService } from '../../jobs/app-events/apps.service.js';
import { CurrentCaller, SlackArgs } from '../slack-args.js';
import { SlackMethod, SlackMethods } from '../slack-method.js';
import { BlockActionArgs, BotsInfoArgs } from './apps.dto.js';
import { InteractivityService } from './interactivity.service.js';
import { baseUrl } from './base-url.js';

@SlackMethods()
export class AppsController {
  constructor(
    private readonly apps: AppsService,
    private readonly interactivity: InteractivityService,
  ) {}

  /** Slack's bots.info: a bot of the caller's workspace (default: the calling bot). */
  @SlackMethod('bots.info')
  async botsInfo(@CurrentCaller() caller: Caller, @SlackArgs() args: BotsInfoArgs) {
    const botId = args.bot ?? caller.user.bot_id;
    if (!botId) throw new SlackError('bot_not_found');
    const app = await this.apps.findByBotId(caller.workspace, botId);
    if (!app) throw new SlackError('bot_not_found');
    return {
      bot: {
        id: app.bot_id,
        deleted: Boolean(app.uninstalled_at),
        name: app.name,
        updated: Math.floor(app.created_at.getTime() / 1000),
        app_id: app.id,
        user_id: app.bot_user_id,
        icons: {},
      },
    };
  }

  /** A user clicked an element of an app's message: the app gets `block_actions` with a response_url. */
  @SlackMethod('client.blockAction')
  async blockAction(@CurrentCaller() caller: Caller, @SlackArgs() args: BlockActionArgs, @Req() req: FastifyRequest) {
    await this.interactivity.blockAction(caller, args, baseUrl(req));
    return {};
  }
}
