import { All, Body, Controller, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SlackError } from '../../domain/slack-error.js';
import { AppsService } from '../../jobs/app-events/apps.service.js';
import { parseToken } from '../../workspaces/tokens.js';
import { WorkspacesService } from '../../workspaces/workspaces.service.js';
import { ChatService } from '../chat/chat.service.js';
import { PostMessageArgs } from '../chat/chat.dto.js';
import { requestToken } from '../slack-auth.guard.js';
import { slackValidation } from '../slack-args.js';
import { appCaller } from './app-caller.js';
import { baseUrl } from './base-url.js';
import { InteractivityService } from './interactivity.service.js';
import { SOCKET_MODE_PATH } from './socket-mode.server.js';

/**
 * The app endpoints that an app token, a response URL or a webhook URL authenticates (not a user
 * or bot token): apps.connections.open, response_url, incoming webhooks.
 */
@Controller()
@ApiExcludeController()
export class AppEndpointsController {
  constructor(
    private readonly apps: AppsService,
    private readonly workspaces: WorkspacesService,
    private readonly interactivity: InteractivityService,
    private readonly chat: ChatService,
  ) {}

  /** Socket Mode: a single-use ws URL on this server for an app token. */
  @All('api/apps.connections.open')
  @HttpCode(200)
  async connectionsOpen(@Req() req: FastifyRequest) {
    const token = requestToken(req);
    if (!token) return { ok: false, error: 'not_authed' };
    const parsed = parseToken(token);
    if (parsed && parsed.kind !== 'app') return { ok: false, error: 'not_allowed_token_type' };
    const caller = await this.workspaces.authenticate(token, 'app');
    if (!caller) return { ok: false, error: 'invalid_auth' };
    const ticket = await this.apps.socketTicket(caller.tokenId);
    return { ok: true, url: `${baseUrl(req, true)}${SOCKET_MODE_PATH}?ticket=${ticket}` };
  }

  /** An app's response_url: replace or delete the message it was about, or answer in the channel. */
  @Post('api/apps.respond/:id/:secret')
  @HttpCode(200)
  async respond(
    @Param('id') id: string,
    @Param('secret') secret: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    try {
      await this.interactivity.respond(id, secret, body && typeof body === 'object' ? (body as Record<string, unknown>) : {});
      return { ok: true };
    } catch (err) {
      if (!(err instanceof SlackError)) throw err;
      if (err.code === 'expired_url') reply.code(404);
      return { ok: false, error: err.code };
    }
  }

  /**
   * Incoming webhook: a Slack message payload (JSON, or a `payload` form field) posted as the app
   * into the webhook's channel. Answers `ok` as Slack does; an unknown or revoked URL gets 404.
   */
  @Post('services/:team/:hook/:secret')
  async webhook(
    @Param('team') team: string,
    @Param('hook') hook: string,
    @Param('secret') secret: string,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const found = await this.apps.webhook(team, hook, secret);
    if (!found) return reply.code(404).type('text/plain').send('no_service');
    let body: unknown = req.body;
    if (body && typeof body === 'object' && typeof (body as { payload?: unknown }).payload === 'string') {
      try {
        body = JSON.parse((body as { payload: string }).payload);
      } catch {
        return reply.code(400).type('text/plain').send('invalid_payload');
      }
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) return reply.code(400).type('text/plain').send('invalid_payload');
    // The channel, name and icon are the app's: a payload's `channel`, `username`, `icon_emoji` and
    // `icon_url` overrides are ignored, as Slack does for app webhooks.
    const { channel: _, username: __, icon_emoji: ___, icon_url: ____, ...content } = body as Record<string, unknown>;
    try {
      const args = (await slackValidation.transform(
        { ...content, channel: found.channel },
        { type: 'custom', metatype: PostMessageArgs },
      )) as PostMessageArgs;
      await this.chat.postMessage(await appCaller(this.workspaces, found.app), args);
    } catch (err) {
      if (!(err instanceof SlackError)) throw err;
      const status = err.code === 'channel_not_found' || err.code === 'not_in_channel' || err.code === 'is_archived' ? 404 : 400;
      return reply.code(status).type('text/plain').send(err.code);
    }
    return reply.code(200).type('text/plain').send('ok');
  }
}
