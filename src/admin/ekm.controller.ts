import {
  BadRequestException,
  Body,
  ForbiddenException,
  ConflictException,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpException,
  NotFoundException,
  Param,
  Post,
  Req,
  UseFilters,
  UseGuards,
  UseInterceptors,
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiBearerAuth, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches } from 'class-validator';
import { ChannelsRepository } from '../api/channels.repository.js';
import {
  EkmAlreadyEnabled,
  EkmError,
  EkmKeyIdRequired,
  EkmKeyNotAllowed,
  EkmNotEnabled,
  EkmProviderNotConfigured,
  RevocationNotFound,
} from '../jobs/ekm/ekm.errors.js';
import { EkmService } from '../jobs/ekm/ekm.service.js';
import { parseTs } from '../domain/ts.js';
import { type AdminCaller, AdminGuard } from './admin.guard.js';
import { AuditInterceptor, AuditTarget } from './audit.interceptor.js';

const SLACK_TS = /^\d{1,12}(\.\d{1,6})?$/;

export class EnableEkmDto {
  @ApiProperty({ enum: ['local', 'aws-kms'] })
  @IsIn(['local', 'aws-kms'])
  provider: 'local' | 'aws-kms';

  @ApiPropertyOptional({ description: 'AWS KMS key id or ARN (aws-kms only)' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9:/_+=,.@-]{1,2048}$/)
  key_id?: string;
}

export class RotateEkmDto {
  @ApiPropertyOptional({ description: 'AWS KMS: move to this key; omitted: a new version of the current key' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9:/_+=,.@-]{1,2048}$/)
  key_id?: string;
}

export class RevokeDto {
  @ApiPropertyOptional({ description: 'Only this channel; omitted: the whole workspace' })
  @IsOptional()
  @IsString()
  channel?: string;

  @ApiPropertyOptional({ description: 'Slack ts: messages from this one on' })
  @IsOptional()
  @Matches(SLACK_TS, { message: 'from_ts must be a Slack ts' })
  from_ts?: string;

  @ApiPropertyOptional({ description: 'Slack ts: messages up to this one' })
  @IsOptional()
  @Matches(SLACK_TS, { message: 'to_ts must be a Slack ts' })
  to_ts?: string;
}

/** Each refusal of the EKM service as the HTTP error it answers with. */
export function ekmHttpError(err: EkmError): HttpException {
  if (err instanceof EkmProviderNotConfigured || err instanceof EkmKeyIdRequired) return new BadRequestException(err.message);
  if (err instanceof EkmAlreadyEnabled) return new ConflictException(err.message);
  if (err instanceof EkmKeyNotAllowed) return new ForbiddenException(err.message);
  if (err instanceof EkmNotEnabled || err instanceof RevocationNotFound) return new NotFoundException(err.message);
  return new BadRequestException(err.message);
}

@Catch(EkmError)
class EkmErrorFilter implements ExceptionFilter {
  catch(err: EkmError, host: ArgumentsHost) {
    const answer = ekmHttpError(err);
    void host.switchToHttp().getResponse<FastifyReply>().status(answer.getStatus()).send(answer.getResponse());
  }
}

/** Customer-managed keys. Workspace admins manage their own workspace; the operator any. */
@ApiTags('encryption keys (EKM)')
@ApiBearerAuth()
@Controller('admin/v1/workspaces/:workspace/ekm')
@UseGuards(AdminGuard)
@UseFilters(EkmErrorFilter)
@UseInterceptors(AuditInterceptor)
export class EkmController {
  constructor(
    private readonly ekm: EkmService,
    private readonly channels: ChannelsRepository,
  ) {}

  @Get()
  async status(@Param('workspace') workspace: string) {
    return this.ekm.status(workspace);
  }

  /** Turns EKM on; a job seals every existing body (follow `run`). */
  @Post()
  @HttpCode(202)
  async enable(@Param('workspace') workspace: string, @Body() dto: EnableEkmDto) {
    return { run: await this.ekm.enable(workspace, dto.provider, dto.key_id) };
  }

  @Post('rotate')
  @HttpCode(202)
  async rotate(@Param('workspace') workspace: string, @Body() dto: RotateEkmDto) {
    return { run: await this.ekm.rotate(workspace, dto.key_id) };
  }

  /** Reads of covered messages answer ekm_access_denied at once; live clients get message_changed. */
  @Post('revocations')
  @AuditTarget({ kind: 'revocation', id: (answer: { revocation: { id: string } }) => answer.revocation.id })
  async revoke(@Req() req: { admin: AdminCaller }, @Param('workspace') workspace: string, @Body() dto: RevokeDto) {
    if (dto.channel && !(await this.channels.find(workspace, dto.channel, ''))) throw new NotFoundException('channel not found');
    const from = dto.from_ts ? parseTs(dto.from_ts)! : null;
    const to = dto.to_ts ? parseTs(dto.to_ts)! : null;
    if (from !== null && to !== null && from > to) throw new BadRequestException('from_ts is after to_ts');
    return this.ekm.revoke(workspace, { channel: dto.channel ?? null, from, to }, actorOf(req.admin));
  }

  @Delete('revocations/:revocation')
  async restore(@Param('workspace') workspace: string, @Param('revocation') id: string) {
    if (!/^\d{1,18}$/.test(id)) throw new NotFoundException('no active revocation with this id');
    return this.ekm.restore(workspace, id);
  }

  @Get('runs/:id')
  async run(@Param('workspace') workspace: string, @Param('id') id: string) {
    const run = await this.ekm.findRun(workspace, id);
    if (!run) throw new NotFoundException('run not found');
    return run;
  }
}

const actorOf = (admin: AdminCaller) => (admin.operator ? 'operator' : admin.userId);
