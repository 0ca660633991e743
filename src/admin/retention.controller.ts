import {
  Body,
  Controller,
  Delete,
  ForbiddenException,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Put,
  Req,
  ServiceUnavailableException,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { ApiBearerAuth, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsDefined, IsInt, Max, Min, ValidateIf } from 'class-validator';
import { ChannelsRepository } from '../api/channels.repository.js';
import { JobQueues } from '../jobs/job-queues.js';
import { RetentionService, retentionRunView } from '../jobs/retention/retention.service.js';
import { type AdminCaller, AdminGuard } from './admin.guard.js';
import { AuditInterceptor } from './audit.interceptor.js';

export class RetentionPolicyDto {
  @ApiProperty({ nullable: true, minimum: 1, maximum: 36500, description: 'Delete messages older than this many days; null keeps forever' })
  @IsDefined({ message: 'keep_days is required (null keeps forever)' })
  @ValidateIf((o: RetentionPolicyDto) => o.keep_days !== null)
  @IsInt()
  @Min(1)
  @Max(36500)
  keep_days: number | null;
}

@ApiTags('retention and jobs')
@ApiBearerAuth()
@Controller('admin/v1')
@UseGuards(AdminGuard)
@UseInterceptors(AuditInterceptor)
export class RetentionController {
  constructor(
    private readonly retention: RetentionService,
    private readonly queues: JobQueues,
    private readonly channels: ChannelsRepository,
  ) {}

  /** The workspace setting and every channel override. */
  @Get('workspaces/:workspace/retention')
  async get(@Param('workspace') workspace: string) {
    const rows = await this.retention.policies(workspace);
    return {
      workspace: { keep_days: rows.find((r) => r.channel_id === null)?.keep_days ?? null },
      channels: rows.filter((r) => r.channel_id !== null).map((r) => ({ channel: r.channel_id, keep_days: r.keep_days })),
    };
  }

  @Put('workspaces/:workspace/retention')
  async setWorkspace(@Param('workspace') workspace: string, @Body() dto: RetentionPolicyDto) {
    await this.retention.setPolicy(workspace, null, dto.keep_days);
    return { keep_days: dto.keep_days };
  }

  /** A channel setting overrides its workspace's (null: keep this channel forever). */
  @Put('workspaces/:workspace/channels/:channel/retention')
  async setChannel(@Param('workspace') workspace: string, @Param('channel') channel: string, @Body() dto: RetentionPolicyDto) {
    await this.channelOf(workspace, channel);
    await this.retention.setPolicy(workspace, channel, dto.keep_days);
    return { channel, keep_days: dto.keep_days };
  }

  /** The channel follows its workspace's setting again. */
  @Delete('workspaces/:workspace/channels/:channel/retention')
  @HttpCode(204)
  async clearChannel(@Param('workspace') workspace: string, @Param('channel') channel: string) {
    await this.channelOf(workspace, channel);
    await this.retention.clearChannelPolicy(workspace, channel);
  }

  /**
   * Records a sweep of the workspace; the job dispatcher hands it to a worker, so this answers at
   * once even while Redis is down (the run starts when it is back). Poll the run for progress.
   */
  @Post('workspaces/:workspace/retention/runs')
  @HttpCode(202)
  async run(@Param('workspace') workspace: string) {
    return retentionRunView(await this.retention.createRun(workspace));
  }

  @Get('workspaces/:workspace/retention/runs/:run')
  async runStatus(@Param('workspace') workspace: string, @Param('run') id: string) {
    const run = await this.retention.findRun(id);
    if (!run || run.workspace_id !== workspace) throw new NotFoundException('run not found');
    return retentionRunView(run);
  }

  /** Counts and recent failures of every queue: the operator's view across workspaces. */
  @Get('jobs')
  async jobs(@Req() req: { admin: AdminCaller }) {
    if (!req.admin.operator) throw new ForbiddenException('only the instance operator sees every queue');
    try {
      return { queues: await this.queues.status() };
    } catch {
      throw new ServiceUnavailableException('the job queue is unavailable');
    }
  }

  private async channelOf(workspace: string, channel: string) {
    if (!(await this.channels.find(workspace, channel, ''))) throw new NotFoundException('channel not found');
  }
}
