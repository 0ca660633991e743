import { Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { SlackError } from '../../domain/slack-error.js';
import { toSlackUser } from '../../domain/user.js';
import { UnreadCountsRepository } from '../../projections/unread/unread-counts.repository.js';
import { ProfilesService } from '../../workspaces/profiles.service.js';
import { type Caller, WorkspacesService } from '../../workspaces/workspaces.service.js';
import { CurrentCaller, decodeCursor, encodeCursor, pageSize, SlackArgs } from '../slack-args.js';
import { SlackMethod, SlackMethods } from '../slack-method.js';
import { ClientCountsArgs } from './client-counts.controller.js';

const MAX_CHANNELS = 1000;

/**
 * client.boot (atomcast's own method, after Slack's client.boot): what a client needs to draw its
 * first screen, and nothing that grows with the workspace: the caller, the workspace, and the
 * caller's channels with their names, unread and mention counts and newest ts. No member lists and
 * no user directory: a client fetches the users it shows with `users.info users=U1,U2,...` or
 * `users.list` pages, and follows them with the socket's `users.subscribe`.
 *
 * As client.counts, each channel's entry comes from the database as JSON text, from the same query
 * that counts it (UnreadCountsRepository.bootEntriesForUser), and the answer is sent as text: the
 * app builds no object per channel and serializes none.
 */
@SlackMethods()
export class ClientBootController {
  constructor(
    private readonly unread: UnreadCountsRepository,
    private readonly workspaces: WorkspacesService,
    private readonly profiles: ProfilesService,
  ) {}

  @SlackMethod('client.boot')
  async boot(@CurrentCaller() caller: Caller, @SlackArgs() args: ClientCountsArgs, @Res() reply: FastifyReply): Promise<void> {
    const limit = pageSize(args.limit, MAX_CHANNELS, MAX_CHANNELS);
    const [self, team, found] = await Promise.all([
      this.profiles.find(caller.workspace, caller.user.id),
      this.workspaces.findWorkspace(caller.workspace),
      this.unread.bootEntriesForUser(caller.user.id, caller.workspace, {
        afterChannel: decodeCursor(args.cursor, 'channel'),
        limit: limit + 1,
      }),
    ]);
    if (!self || !team) throw new SlackError('invalid_auth');
    const rows = found.slice(0, limit);
    const list = (kind: string) =>
      `[${rows
        .filter((c) => c.kind === kind && c.entry !== null)
        .map((c) => c.entry)
        .join(',')}]`;
    const next = found.length > limit ? encodeCursor('channel', rows[rows.length - 1].channel_id) : '';
    const head = JSON.stringify({
      ok: true,
      self: toSlackUser(self),
      team: { id: team.id, name: team.name, domain: team.id.toLowerCase() },
    });
    reply
      .type('application/json; charset=utf-8')
      .send(
        `${head.slice(0, -1)},"channels":${list('channel')},"ims":${list('im')},"mpims":${list('mpim')},"response_metadata":{"next_cursor":${JSON.stringify(next)}}}`,
      );
  }
}
