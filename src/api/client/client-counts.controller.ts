import { formatTs } from '../../domain/ts.js';
import type { Caller } from '../../workspaces/workspaces.service.js';
import { UnreadCountsRepository } from '../../projections/unread/unread-counts.repository.js';
import { PageArgs } from '../conversations/conversations.dto.js';
import { CurrentCaller, decodeCursor, encodeCursor, pageSize, SlackArgs } from '../slack-args.js';
import { SlackMethod, SlackMethods } from '../slack-method.js';

/** Slack's client.counts takes no page arguments; these only split a very large sidebar. */
export class ClientCountsArgs extends PageArgs {}

/** Most channels in one answer; more come through response_metadata.next_cursor. */
const MAX_CHANNELS = 1000;

/**
 * client.counts: what a client needs to draw its sidebar at boot, per channel the caller belongs to
 * (read marker, newest message, head seq, unread and mention counts). One row per membership and
 * no member lists, so a user in 1,000 channels gets ~1,000 short entries; details load lazily.
 */
@SlackMethods()
export class ClientCountsController {
  constructor(private readonly unread: UnreadCountsRepository) {}

  @SlackMethod('client.counts')
  async counts(@CurrentCaller() caller: Caller, @SlackArgs() args: ClientCountsArgs) {
    const limit = pageSize(args.limit, MAX_CHANNELS, MAX_CHANNELS);
    const found = await this.unread.forUser(caller.user.id, { afterChannel: decodeCursor(args.cursor, 'channel'), limit: limit + 1 });
    const rows = found.slice(0, limit);
    const entry = (c: (typeof rows)[number]) => ({
      id: c.channel,
      last_read: formatTs(c.lastRead),
      latest: c.latest === null ? null : formatTs(c.latest),
      latest_seq: c.headSeq,
      unread_count: c.unread,
      mention_count: c.mentions,
      has_unreads: c.unread > 0,
    });
    // Slack lists DMs apart from channels; a page holds all three kinds up to `limit` in all.
    return {
      channels: rows.filter((c) => c.kind === 'channel').map(entry),
      mpims: rows.filter((c) => c.kind === 'mpim').map(entry),
      ims: rows.filter((c) => c.kind === 'im').map(entry),
      response_metadata: { next_cursor: found.length > limit ? encodeCursor('channel', rows[rows.length - 1].channel) : '' },
    };
  }
}
