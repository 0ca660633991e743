import { BadRequestException, Controller, ForbiddenException, Get, Param, Query, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsISO8601, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { type AuditRow, AuditRepository } from '../audit/audit.repository.js';
import { type AdminCaller, AdminGuard } from './admin.guard.js';

export class AuditQuery {
  @ApiPropertyOptional({ description: 'Page size (default 100)', minimum: 1, maximum: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  @ApiPropertyOptional({ description: '`next_cursor` of the previous page' })
  @IsOptional()
  @Matches(/^\d{1,18}$/, { message: 'cursor must be a next_cursor' })
  cursor?: string;

  @ApiPropertyOptional({ description: 'Only this action, e.g. `access.deactivate`, `ekm.enable`, `replay.global`' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  action?: string;

  @ApiPropertyOptional({ description: 'Only this actor: `operator`, `system` or a user id' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  actor?: string;

  @ApiPropertyOptional({ description: 'From this time on (ISO 8601, inclusive)' })
  @IsOptional()
  @IsISO8601()
  since?: string;

  @ApiPropertyOptional({ description: 'Before this time (ISO 8601, exclusive)' })
  @IsOptional()
  @IsISO8601()
  until?: string;
}

export class OperatorAuditQuery extends AuditQuery {
  @ApiPropertyOptional({ description: 'Only this workspace' })
  @IsOptional()
  @Matches(/^T[A-Z0-9]{1,30}$/, { message: 'workspace must be a workspace id' })
  workspace?: string;
}

class AuditTargetView {
  @ApiProperty({ example: 'user' }) kind: string;
  @ApiProperty({ example: 'U0123ABCD' }) id: string;
}

class AuditEntryView {
  @ApiProperty() id: string;
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ description: '`operator`, `system` or a user id' }) actor: string;
  @ApiProperty({ nullable: true, type: String, description: "The acting user's workspace" }) actor_workspace: string | null;
  @ApiProperty({ example: 'access.deactivate' }) action: string;
  @ApiProperty({ nullable: true, type: AuditTargetView }) target: AuditTargetView | null;
  @ApiProperty({ nullable: true, type: String, description: 'The workspace acted on' }) workspace: string | null;
  @ApiProperty({ nullable: true, type: String }) source_address: string | null;
  @ApiProperty({ enum: ['ok', 'refused'] }) outcome: 'ok' | 'refused';
  @ApiProperty({ nullable: true, type: String }) error: string | null;
  @ApiProperty({ description: 'method, route template, status; never a secret, token or message text' })
  details: Record<string, unknown>;
}

class AuditPage {
  @ApiProperty({ type: [AuditEntryView] }) entries: AuditEntryView[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as `cursor` for the next (older) page; null at the end' })
  next_cursor: string | null;
}

/**
 * The audit trail over the admin API, newest first, a page at a time (`next_cursor` until null).
 * Reading it is not itself recorded (it writes nothing); every admin write and replay read is.
 */
@ApiTags('audit')
@ApiBearerAuth()
@Controller('admin/v1')
@UseGuards(AdminGuard)
export class AuditController {
  constructor(private readonly audit: AuditRepository) {}

  @Get('audit')
  @ApiOperation({ summary: 'Operator only: the audit trail of every workspace (or `workspace`)' })
  @ApiOkResponse({ type: AuditPage })
  async all(@Req() req: { admin: AdminCaller }, @Query() q: OperatorAuditQuery) {
    if (!req.admin.operator)
      throw new ForbiddenException('only the instance operator reads every workspace; use /workspaces/:workspace/audit');
    return this.page(q, q.workspace);
  }

  @Get('workspaces/:workspace/audit')
  @ApiOperation({ summary: "The workspace's audit trail (its admins and the operator)" })
  @ApiOkResponse({ type: AuditPage })
  async workspace(@Param('workspace') workspace: string, @Query() q: AuditQuery) {
    return this.page(q, workspace);
  }

  private async page(q: AuditQuery, workspace: string | undefined): Promise<AuditPage> {
    const since = q.since ? new Date(q.since) : undefined;
    const until = q.until ? new Date(q.until) : undefined;
    if (since && until && since > until) throw new BadRequestException('since is after until');
    const limit = q.limit ?? 100;
    const rows = await this.audit.list({ workspace, action: q.action, actor: q.actor, since, until, before: q.cursor, limit: limit + 1 });
    const page = rows.slice(0, limit);
    return { entries: page.map(entryView), next_cursor: rows.length > limit ? page[page.length - 1].id : null };
  }
}

function entryView(row: AuditRow): AuditEntryView {
  return {
    id: row.id,
    at: row.at.toISOString(),
    actor: row.actor,
    actor_workspace: row.actor_workspace,
    action: row.action,
    target: row.target_kind && row.target_id ? { kind: row.target_kind, id: row.target_id } : null,
    workspace: row.workspace_id,
    source_address: row.source_address,
    outcome: row.outcome,
    error: row.error,
    details: row.details,
  };
}
