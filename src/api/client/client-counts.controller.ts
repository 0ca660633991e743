import { Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
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
 *
 * Each entry comes from the database as JSON text (UnreadCountsRepository.entriesForUser) and the
 * answer is sent as the text it already is, through the reply: returning it would make Fastify
 * serialize ~150 KiB of objects the app only built to be serialized. Per entry: `{id, last_read,
 * latest, latest_seq, unread_count, mention_count, has_unreads}`.
 */
@SlackMethods()
export class ClientCountsController {
  constructor(private readonly unread: UnreadCountsRepository) {}

  @SlackMethod('client.counts')
  async counts(@CurrentCaller() caller: Caller, @SlackArgs() args: ClientCountsArgs, @Res() reply: FastifyReply): Promise<void> {
    const limit = pageSize(args.limit, MAX_CHANNELS, MAX_CHANNELS);
    const found = await this.unread.entriesForUser(caller.user.id, {
      afterChannel: decodeCursor(args.cursor, 'channel'),
      limit: limit + 1,
    });
    const rows = found.slice(0, limit);
    const list = (kind: string) =>
      `[${rows
        .filter((c) => c.kind === kind)
        .map((c) => c.entry)
        .join(',')}]`;
    const next = found.length > limit ? encodeCursor('channel', rows[rows.length - 1].channel_id) : '';
    // Slack lists DMs apart from channels; a page holds all three kinds up to `limit` in all.
    reply
      .type('application/json; charset=utf-8')
      .send(
        `{"ok":true,"channels":${list('channel')},"mpims":${list('mpim')},"ims":${list('im')},"response_metadata":{"next_cursor":${JSON.stringify(next)}}}`,
      );
  }
}
