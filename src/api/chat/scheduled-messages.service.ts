import { createHash, randomBytes } from 'node:crypto';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { BodyCipher } from '../../crypto/body-cipher.js';
import { inTransaction } from '../../db/database.js';
import { channelPolicy, enforce } from '../../domain/channel-policy.js';
import { SlackError } from '../../domain/slack-error.js';
import { formatTs, requireTs } from '../../domain/ts.js';
import { JobWorkers } from '../../jobs/job-workers.service.js';
import { QUEUES, type ScheduledMessageJob } from '../../jobs/queues.js';
import { type Caller, WorkspacesService } from '../../workspaces/workspaces.service.js';
import { ChannelsRepository } from '../channels.repository.js';
import { decodeCursor, encodeCursor, pageSize } from '../slack-args.js';
import { ChatService } from './chat.service.js';
import type { DeleteScheduledArgs, ListScheduledArgs, ScheduleMessageArgs } from './scheduled-messages.dto.js';
import { ScheduledMessagesRepository, type ScheduledRow } from './scheduled-messages.repository.js';

/** Slack refuses a post_at more than 120 days ahead. */
const MAX_AHEAD_SECONDS = 120 * 24 * 3600;

/** The client_msg_id of a scheduled message's post: derived from its id, so a repeated job posts nothing new. */
export function scheduledClientMsgId(id: string): string {
  const h = createHash('sha256').update(`scheduled:${id}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const newScheduledId = () => `Q${randomBytes(8).toString('hex').toUpperCase()}`;

/**
 * chat.scheduleMessage and friends. The request writes one row; the job dispatcher turns it into a
 * BullMQ delayed job (id from the row) and the worker posts it through chat.postMessage's path as
 * the author, with a client_msg_id derived from the row: a job that runs twice (a crash after the
 * post, a re-dispatch after Redis lost it) posts once. Access is checked again at post time; a
 * refusal (channel_not_found, not_in_channel, is_archived) is recorded on the row and listed.
 */
@Injectable()
export class ScheduledMessagesService implements OnModuleInit {
  constructor(
    private readonly repo: ScheduledMessagesRepository,
    private readonly channels: ChannelsRepository,
    private readonly chat: ChatService,
    private readonly workspaces: WorkspacesService,
    private readonly cipher: BodyCipher,
    private readonly workers: JobWorkers,
  ) {}

  onModuleInit(): void {
    this.workers.serve<ScheduledMessageJob>(QUEUES.scheduled, 4, (job) => this.deliver(job.data.id));
  }

  async schedule(caller: Caller, args: ScheduleMessageArgs, nowSeconds = Math.floor(Date.now() / 1000)) {
    // Scheduled messages carry text only (blocks are chat.postMessage's); text is optional there, not here.
    if (!args.text) throw new SlackError('no_text');
    if (args.post_at <= nowSeconds) throw new SlackError('time_in_past');
    if (args.post_at > nowSeconds + MAX_AHEAD_SECONDS) throw new SlackError('time_too_far');
    const threadTs = args.thread_ts === undefined ? null : requireTs(args.thread_ts, 'thread_not_found').toString();
    const head = await this.channels.find(caller.workspace, args.channel, caller.user.id);
    enforce(channelPolicy('post', { head, caller: caller.user, member: head?.is_member ?? false }));
    // The text waits in the row until post time: an EKM workspace would hold it in clear meanwhile.
    if (await this.cipher.sealer(caller.workspace, args.channel)) throw new SlackError('restricted_action');
    const row = await this.repo.insert({
      id: newScheduledId(),
      workspace_id: caller.workspace,
      channel_id: args.channel,
      user_id: caller.user.id,
      text: args.text,
      thread_ts: threadTs,
      post_at: String(args.post_at),
    });
    return {
      channel: row.channel_id,
      scheduled_message_id: row.id,
      post_at: Number(row.post_at),
      message: { type: 'message', user: row.user_id, text: row.text, bot_id: null, ...(threadTs ? { thread_ts: formatTs(threadTs) } : {}) },
    };
  }

  async list(caller: Caller, args: ListScheduledArgs) {
    const limit = pageSize(args.limit, 100, 1000);
    const cursor = decodeCursor(args.cursor, 'sched');
    const after = cursor ? { postAt: cursor.slice(0, cursor.indexOf('Q')), id: cursor.slice(cursor.indexOf('Q')) } : undefined;
    if (after && !/^\d{1,12}$/.test(after.postAt)) throw new SlackError('invalid_cursor');
    const rows = await this.repo.list(caller.user.id, args.channel, after, limit + 1);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      scheduled_messages: page.map(toListed),
      response_metadata: { next_cursor: rows.length > limit ? encodeCursor('sched', `${last.post_at}${last.id}`) : '' },
    };
  }

  async delete(caller: Caller, args: DeleteScheduledArgs) {
    if (!(await this.repo.delete(caller.user.id, args.channel, args.scheduled_message_id))) {
      throw new SlackError('invalid_scheduled_message_id');
    }
    return {};
  }

  /** The worker: posts the message once, as its author, unless it was deleted or handled already. */
  async deliver(id: string): Promise<ScheduledRow['state'] | undefined> {
    return inTransaction(this.repo.pool, async (tx) => {
      const row = await this.repo.lock(tx, id);
      if (!row || row.state !== 'pending') return row?.state;
      const user = await this.workspaces.findUser(row.workspace_id, row.user_id);
      if (!user || user.deleted) {
        await this.repo.finish(tx, id, { error: 'user_not_found' });
        return 'failed';
      }
      const caller: Caller = { user, workspace: row.workspace_id, tokenId: `scheduled:${id}`, kind: 'api', expiresAt: null };
      try {
        const posted = await this.chat.postMessage(caller, {
          channel: row.channel_id,
          text: row.text,
          thread_ts: row.thread_ts === null ? undefined : formatTs(row.thread_ts),
          client_msg_id: scheduledClientMsgId(id),
        });
        await this.repo.finish(tx, id, { postedTs: requireTs(posted.ts, 'message_not_found').toString() });
        return 'posted';
      } catch (err) {
        if (!(err instanceof SlackError)) throw err; // a database or KMS outage: the job retries
        await this.repo.finish(tx, id, { error: err.code });
        return 'failed';
      }
    });
  }
}

function toListed(r: ScheduledRow) {
  return {
    id: r.id,
    channel_id: r.channel_id,
    post_at: Number(r.post_at),
    date_created: Math.floor(r.created_at.getTime() / 1000),
    text: r.text,
    ...(r.thread_ts ? { thread_ts: formatTs(r.thread_ts) } : {}),
    // atomcast: a message that could not be posted stays listed with the reason (Slack drops it).
    state: r.state,
    ...(r.error ? { error: r.error } : {}),
  };
}
