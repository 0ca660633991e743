import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import type { SealedBody } from '../../crypto/body-cipher.js';
import { PG_POOL } from '../../db/database.module.js';
import { SlackError } from '../../domain/slack-error.js';
import { EventStore } from '../../event-store/event-store.js';

export interface PostMessage {
  workspace: string;
  channel: string;
  user: string;
  text: string;
  threadTs?: bigint;
  replyBroadcast?: boolean;
  clientMsgId?: string;
}

export interface Posted {
  seq: number;
  ts: string; // microseconds
  threadTs: string | null;
  duplicate: boolean;
}

/** chat.postMessage's append: post_message() checks, appends and stores the body in one round trip. */
@Injectable()
export class ChatRepository {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly events: EventStore,
  ) {}

  /**
   * Every check that must agree with the append runs inside post_message(), under the channel lock
   * (the same rules as channelPolicy('post'); test/api/post-message-parity.int.spec.ts pins them).
   * `body` is the sealed body in an EKM workspace; the plain text otherwise. Refusals throw the
   * Slack error code, `ekm_required` included (the workspace turned EKM on: seal and call again).
   */
  async postMessage(cmd: PostMessage, body: SealedBody = { text: cmd.text, bodyEnc: null, dataKeyId: null }): Promise<Posted> {
    const { rows } = await this.pool.query<{ error: string | null; seq: string; ts: string; thread_ts: string | null; duplicate: boolean }>({
      name: 'post-message', // prepared once per connection: the hot path skips parse and plan
      text: 'SELECT * FROM post_message($1, $2, $3, $4, $5, $6, $7, $8, $9)',
      values: [
        cmd.workspace, cmd.channel, cmd.user, body.text, cmd.threadTs?.toString() ?? null, cmd.replyBroadcast ?? false,
        cmd.clientMsgId ?? null, body.bodyEnc, body.dataKeyId,
      ],
    });
    const r = rows[0];
    if (r.error) throw new SlackError(r.error);
    const seq = Number(r.seq);
    if (!r.duplicate) this.events.noteCommitted(cmd.channel, seq);
    return { seq, ts: r.ts, threadTs: r.thread_ts, duplicate: r.duplicate };
  }
}
