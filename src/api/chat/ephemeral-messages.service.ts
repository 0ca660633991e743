import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../../db/database.module.js';
import { channelPolicy, enforce } from '../../domain/channel-policy.js';
import type { EphemeralMessage } from '../../domain/events.js';
import { hasContent, parseMessageContent, posterIdentity, richOrNothing } from '../../domain/message-content.js';
import { SlackError } from '../../domain/slack-error.js';
import { formatTs, requireTs } from '../../domain/ts.js';
import { type Caller, WorkspacesService } from '../../workspaces/workspaces.service.js';
import { ChannelsRepository } from '../channels.repository.js';
import type { PostEphemeralArgs } from './chat.dto.js';

/** Delivers an ephemeral message to its user's sockets (the realtime layer registers one). */
export type EphemeralDelivery = (message: EphemeralMessage) => Promise<void>;

/**
 * chat.postEphemeral: a message one member of a channel sees, as Slack shows bot hints and command
 * answers. It is never stored and never enters the log (no seq, not in history or replay): it
 * reaches the user's open sockets through the realtime layer, and is gone when they reload.
 */
@Injectable()
export class EphemeralMessages {
  private readonly deliveries: EphemeralDelivery[] = [];

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly channels: ChannelsRepository,
    private readonly workspaces: WorkspacesService,
  ) {}

  /** The realtime layer hands its delivery here (the api knows nothing of sockets). */
  onEphemeral(delivery: EphemeralDelivery): void {
    this.deliveries.push(delivery);
  }

  async post(caller: Caller, args: PostEphemeralArgs): Promise<{ message_ts: string }> {
    const content = parseMessageContent(args);
    const rich = richOrNothing({ blocks: content.blocks, attachments: content.attachments });
    if (!hasContent(content.text, rich)) throw new SlackError('no_text');
    const threadTs = args.thread_ts === undefined ? undefined : formatTs(requireTs(args.thread_ts, 'thread_not_found'));
    const head = await this.channels.find(caller.workspace, args.channel, caller.user.id);
    enforce(channelPolicy('post', { head, caller: caller.user, member: head?.is_member ?? false }));
    if (!(await this.workspaces.findUser(caller.workspace, args.user))) throw new SlackError('user_not_found');
    if (!(await this.channels.isMember(this.pool, args.channel, args.user))) throw new SlackError('user_not_in_channel');
    // Not a position in the channel: only the time it was sent, as Slack's message_ts is.
    const ts = formatTs(BigInt(Date.now()) * 1000n);
    const message: EphemeralMessage['message'] = {
      type: 'message',
      user: caller.user.id,
      text: content.text,
      ts,
      ...(threadTs ? { thread_ts: threadTs } : {}),
      ...(rich?.blocks ? { blocks: rich.blocks } : {}),
      ...(rich?.attachments ? { attachments: rich.attachments } : {}),
      ...posterIdentity(caller.user, caller.workspace),
      is_ephemeral: true,
    };
    for (const deliver of this.deliveries) await deliver({ channel: args.channel, user: args.user, message });
    return { message_ts: ts };
  }
}
