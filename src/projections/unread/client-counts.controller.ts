import { All, Controller, HttpCode, UseGuards } from '@nestjs/common';
import { formatTs } from '../../domain/ts.js';
import type { Caller } from '../../workspaces/workspaces.service.js';
import { CurrentCaller } from '../../api/slack-args.js';
import { SlackAuthGuard } from '../../api/slack-auth.guard.js';
import { SlackRateLimitGuard } from '../../api/slack-rate-limit.guard.js';
import { UnreadCountsRepository } from './unread-counts.repository.js';

/**
 * client.counts: what a client needs to draw its sidebar at boot, per channel the caller belongs to
 * (read marker, newest message, head seq, unread and mention counts). One row per membership and
 * no member lists, so a user in 1,000 channels gets ~1,000 short entries; details load lazily.
 */
@Controller('api')
@UseGuards(SlackAuthGuard, SlackRateLimitGuard)
export class ClientCountsController {
  constructor(private readonly unread: UnreadCountsRepository) {}

  @All('client.counts') @HttpCode(200)
  async counts(@CurrentCaller() caller: Caller) {
    const rows = await this.unread.forUser(caller.user.id);
    return {
      ok: true,
      channels: rows.map((c) => ({
        id: c.channel,
        last_read: formatTs(c.lastRead),
        latest: c.latest === null ? null : formatTs(c.latest),
        latest_seq: c.headSeq,
        unread_count: c.unread,
        mention_count: c.mentions,
        has_unreads: c.unread > 0,
      })),
      mpims: [],
      ims: [],
    };
  }
}
