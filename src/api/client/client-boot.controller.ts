import { SlackError } from '../../domain/slack-error.js';
import { mpimName } from '../../domain/channel.js';
import { formatTs } from '../../domain/ts.js';
import { toSlackUser } from '../../domain/user.js';
import { UnreadCountsRepository } from '../../projections/unread/unread-counts.repository.js';
import { ProfilesService } from '../../workspaces/profiles.service.js';
import { type Caller, WorkspacesService } from '../../workspaces/workspaces.service.js';
import { ChannelsRepository } from '../channels.repository.js';
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
 */
@SlackMethods()
export class ClientBootController {
  constructor(
    private readonly unread: UnreadCountsRepository,
    private readonly channels: ChannelsRepository,
    private readonly workspaces: WorkspacesService,
    private readonly profiles: ProfilesService,
  ) {}

  @SlackMethod('client.boot')
  async boot(@CurrentCaller() caller: Caller, @SlackArgs() args: ClientCountsArgs) {
    const limit = pageSize(args.limit, MAX_CHANNELS, MAX_CHANNELS);
    const [self, team, found] = await Promise.all([
      this.profiles.find(caller.workspace, caller.user.id),
      this.workspaces.findWorkspace(caller.workspace),
      this.unread.forUser(caller.user.id, { afterChannel: decodeCursor(args.cursor, 'channel'), limit: limit + 1 }),
    ]);
    if (!self || !team) throw new SlackError('invalid_auth');
    const counts = found.slice(0, limit);
    const described = new Map(
      (
        await this.channels.sidebar(
          caller.workspace,
          counts.map((c) => c.channel),
        )
      ).map((c) => [c.id, c]),
    );
    const channels: Record<string, unknown>[] = [];
    const ims: Record<string, unknown>[] = [];
    const mpims: Record<string, unknown>[] = [];
    for (const c of counts) {
      const ch = described.get(c.channel);
      if (!ch) continue;
      const state = {
        is_member: true,
        created: Math.floor(ch.created_at.getTime() / 1000),
        last_read: formatTs(c.lastRead),
        latest: c.latest === null ? null : formatTs(c.latest),
        latest_seq: c.headSeq,
        unread_count: c.unread,
        mention_count: c.mentions,
        has_unreads: c.unread > 0,
      };
      const members = (ch.member_key ?? '').split(',');
      if (ch.kind === 'im') {
        // An IM names the other person, as conversations.open and conversations.list do.
        ims.push({ id: ch.id, is_im: true, user: members.find((u) => u !== caller.user.id) ?? members[0], ...state });
      } else if (ch.kind === 'mpim') {
        mpims.push({ id: ch.id, is_mpim: true, is_group: true, is_private: true, name: mpimName(members), members, ...state });
      } else {
        channels.push({
          id: ch.id,
          name: ch.name,
          is_channel: !ch.is_private,
          is_group: ch.is_private,
          is_private: ch.is_private,
          is_archived: ch.is_archived,
          topic: { value: ch.topic },
          purpose: { value: ch.purpose },
          ...state,
        });
      }
    }
    return {
      self: toSlackUser(self),
      team: { id: team.id, name: team.name, domain: team.id.toLowerCase() },
      channels,
      ims,
      mpims,
      response_metadata: { next_cursor: found.length > limit ? encodeCursor('channel', counts[counts.length - 1].channel) : '' },
    };
  }
}
