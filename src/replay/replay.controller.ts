import { Readable } from 'node:stream';
import { Controller, ForbiddenException, Get, NotFoundException, Param, Query, Req, Res, UseGuards, UseInterceptors } from '@nestjs/common';
import { ApiBearerAuth, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { parseTs } from '../domain/ts.js';
import { parseCursor, START } from '../event-store/events.js';
import { ChannelEventsQuery, GlobalEventsQuery } from './replay.dto.js';
import { type AdminCaller, AdminGuard, AdminRoles } from '../admin/admin.guard.js';
import { AuditInterceptor, AuditReads } from '../admin/audit.interceptor.js';
import { type ReplayFilter, type ReplayPage, ReplayService } from './replay.service.js';

/**
 * Replay for analysts: NDJSON, one event a line, in order, streamed page by page (backpressure
 * from the socket paces the reads, so memory stays at one page whatever the range).
 */
@ApiTags('replay')
@ApiBearerAuth()
@Controller('admin/v1')
@UseGuards(AdminGuard)
@AdminRoles(['admin', 'analyst'])
@UseInterceptors(AuditInterceptor)
@AuditReads(true) // every replay request is on the audit trail
export class ReplayController {
  constructor(private readonly replay: ReplayService) {}

  /** One channel's stream after `after_seq`. Private channels too: the roles allowed here see every channel of their workspace. */
  @Get('channels/:channel/events')
  @ApiProduces('application/x-ndjson')
  async channel(
    @Req() req: { admin: AdminCaller },
    @Param('channel') id: string,
    @Query() q: ChannelEventsQuery,
    @Res() reply: FastifyReply,
  ) {
    const workspace = await this.replay.channelWorkspace(id);
    if (!workspace || (!req.admin.operator && req.admin.workspace !== workspace)) throw new NotFoundException('channel_not_found');
    return stream(reply, this.replay.channel(id, q.after_seq ?? 0, { limit: q.limit, filter: filterOf(q) }));
  }

  /** Every channel of the caller's workspace (operator: every workspace, or `workspace`), after the global cursor `after`. */
  @Get('events')
  @ApiProduces('application/x-ndjson')
  async global(@Req() req: { admin: AdminCaller }, @Query() q: GlobalEventsQuery, @Res() reply: FastifyReply) {
    let workspace = q.workspace;
    if (!req.admin.operator) {
      if (workspace && workspace !== req.admin.workspace) throw new ForbiddenException('not your workspace');
      workspace = req.admin.workspace;
    }
    const after = q.after ? parseCursor(q.after)! : START;
    return stream(reply, this.replay.global(after, { workspace, channel: q.channel, limit: q.limit, filter: filterOf(q) }));
  }
}

function filterOf(q: { types?: string; oldest?: string; latest?: string }): ReplayFilter {
  return {
    types: q.types ? new Set(q.types.split(',')) : undefined,
    oldest: q.oldest === undefined ? undefined : parseTs(q.oldest),
    latest: q.latest === undefined ? undefined : parseTs(q.latest),
  };
}

function stream(reply: FastifyReply, pages: AsyncGenerator<ReplayPage>): FastifyReply {
  async function* lines() {
    for await (const page of pages) if (page.kept) yield page.ndjson;
  }
  return reply
    .header('content-type', 'application/x-ndjson; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(Readable.from(lines(), { objectMode: false }));
}
