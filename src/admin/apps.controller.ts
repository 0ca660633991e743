import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Patch,
  Post,
  Req,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ConversationsService } from '../api/conversations/conversations.service.js';
import { SlackError } from '../domain/slack-error.js';
import type { AppRow } from '../jobs/app-events/apps.repository.js';
import { type AppCredential, AppSettingRefused, AppsService } from '../jobs/app-events/apps.service.js';
import { WorkspacesService } from '../workspaces/workspaces.service.js';
import { AdminGuard } from './admin.guard.js';
import { AuditInterceptor, AuditTarget } from './audit.interceptor.js';
import { CreateWebhookDto, InstallAppDto, UpdateAppDto } from './apps.dto.js';

const CREDENTIALS: AppCredential[] = ['bot_token', 'app_token', 'signing_secret'];

/**
 * Installed apps: install (bot user, bot and app tokens, signing secret), settings, pause state,
 * credential rotation and revocation, incoming webhooks. Secrets appear only in the answer that
 * creates them. Every write is on the audit trail.
 */
@ApiTags('apps')
@ApiBearerAuth()
@Controller('admin/v1/workspaces/:workspace/apps')
@UseGuards(AdminGuard)
@UseInterceptors(AuditInterceptor)
export class AppsController {
  constructor(
    private readonly apps: AppsService,
    private readonly workspaces: WorkspacesService,
    private readonly conversations: ConversationsService,
  ) {}

  @Post()
  @AuditTarget({ kind: 'app', id: (answer: { app?: { id?: string } }) => answer.app?.id })
  @ApiOperation({ summary: 'Installs an app: its bot user, bot token (xoxb-), app token (xapp-) and signing secret, shown only here' })
  async install(@Param('workspace') workspace: string, @Body() body: InstallAppDto) {
    if (!(await this.workspaces.findWorkspace(workspace))) throw new NotFoundException('workspace not found');
    const installed = await refusals(() => this.apps.install(workspace, body));
    return { ...installed, app: appView(installed.app) };
  }

  @Get()
  @ApiOperation({ summary: "The workspace's apps, their settings and delivery state (paused, and why)" })
  async list(@Param('workspace') workspace: string) {
    return { apps: (await this.apps.list(workspace)).map(appView) };
  }

  @Get(':app')
  @ApiOperation({ summary: 'One app, its settings and delivery state' })
  async get(@Param('workspace') workspace: string, @Param('app') id: string) {
    return { app: appView(await this.appOf(workspace, id)) };
  }

  @Patch(':app')
  @ApiOperation({ summary: 'Changes event subscriptions and URLs; a new request URL must pass url_verification first' })
  async update(@Param('workspace') workspace: string, @Param('app') id: string, @Body() body: UpdateAppDto) {
    const row = await refusals(() => this.apps.update(workspace, id, body));
    if (!row) throw new NotFoundException('app not found');
    return { app: appView(row) };
  }

  @Post(':app/resume')
  @HttpCode(200)
  @ApiOperation({ summary: 'Resumes a paused app: delivery continues in order from the event that failed' })
  async resume(@Param('workspace') workspace: string, @Param('app') id: string) {
    const row = await this.apps.resume(workspace, id);
    if (!row) throw new NotFoundException('app not found');
    return { app: appView(row) };
  }

  @Post(':app/credentials/:credential/rotate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Replaces bot_token, app_token or signing_secret; the old one stops working at once (open sockets closed)' })
  async rotate(@Param('workspace') workspace: string, @Param('app') id: string, @Param('credential') credential: string) {
    if (!CREDENTIALS.includes(credential as AppCredential))
      throw new BadRequestException('credential must be bot_token, app_token or signing_secret');
    const result = await this.apps.replaceCredential(workspace, id, credential as AppCredential, true);
    if (!result) throw new NotFoundException('app not found');
    return result;
  }

  @Post(':app/credentials/:credential/revoke')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revokes bot_token or app_token without a replacement; refused everywhere at once, open sockets closed' })
  async revoke(@Param('workspace') workspace: string, @Param('app') id: string, @Param('credential') credential: string) {
    if (credential !== 'bot_token' && credential !== 'app_token')
      throw new BadRequestException('credential must be bot_token or app_token');
    const result = await this.apps.replaceCredential(workspace, id, credential, false);
    if (!result) throw new NotFoundException('app not found');
    return result;
  }

  @Post(':app/webhooks')
  @ApiOperation({ summary: 'An incoming webhook URL posting as the app into a channel (the URL is the credential, shown only here)' })
  async createWebhook(
    @Param('workspace') workspace: string,
    @Param('app') id: string,
    @Body() body: CreateWebhookDto,
    @Req() req: FastifyRequest,
  ) {
    const app = await this.appOf(workspace, id);
    const bot = await this.workspaces.findUser(workspace, app.bot_user_id);
    const caller = { user: bot!, workspace, tokenId: `app:${app.id}`, kind: 'bot' as const, expiresAt: null };
    try {
      // The bot joins a public channel (as a Slack webhook install adds the app); a private one must have invited it.
      const channel = await this.conversations.visible(caller, body.channel);
      if (!channel.is_member) {
        if (channel.is_private) throw new SlackError('not_in_channel');
        await this.conversations.join(caller, body.channel);
      }
    } catch (err) {
      if (err instanceof SlackError) throw new BadRequestException(err.code);
      throw err;
    }
    const secure = req.protocol === 'https';
    return this.apps.createWebhook(app, body.channel, `${secure ? 'https' : 'http'}://${req.host}`);
  }

  @Post(':app/webhooks/:hook/revoke')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revokes an incoming webhook: its URL answers 404 from now on' })
  async revokeWebhook(@Param('workspace') workspace: string, @Param('app') id: string, @Param('hook') hook: string) {
    const app = await this.appOf(workspace, id);
    if (!(await this.apps.revokeWebhook(app, hook))) throw new NotFoundException('webhook not found');
    return { id: hook, revoked: true };
  }

  private async appOf(workspace: string, id: string): Promise<AppRow> {
    const app = await this.apps.find(workspace, id);
    if (!app) throw new NotFoundException('app not found');
    return app;
  }
}

/** An app as the admin sees it: never the signing secret. */
function appView(a: AppRow) {
  return {
    id: a.id,
    name: a.name,
    workspace: a.workspace_id,
    bot_user_id: a.bot_user_id,
    bot_id: a.bot_id,
    events: a.event_subscriptions,
    request_url: a.request_url,
    interactivity_url: a.interactivity_url,
    paused: Boolean(a.paused_at),
    paused_at: a.paused_at?.toISOString() ?? null,
    paused_reason: a.paused_reason,
    created_at: a.created_at.toISOString(),
  };
}

async function refusals<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof AppSettingRefused) throw new BadRequestException(err.code);
    throw err;
  }
}
