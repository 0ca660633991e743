import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { type BodySealer, rethrowEkmRequired } from '../../crypto/body-cipher.js';
import { PG_POOL } from '../../db/database.module.js';
import { inTransaction, type Queryable } from '../../db/database.js';
import { packBody, type RichContent } from '../../domain/message-content.js';
import { SlackError } from '../../domain/slack-error.js';
import { EventStore } from '../../event-store/event-store.js';

/** Stands in for an EKM body inside the post's transaction until it is sealed for its seq (never committed). */
const UNSEALED = Buffer.alloc(0);

export interface PostMessage {
  workspace: string;
  channel: string;
  user: string;
  text: string;
  threadTs?: bigint;
  replyBroadcast?: boolean;
  clientMsgId?: string;
  /** Blocks, attachments, subtype or a bot's identity (undefined for a plain text message). */
  rich?: RichContent;
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
   * Plaintext, rich content (blocks, a bot's identity) included: one round trip. EKM (`sealer` given): the sealed box is bound to the message's seq,
   * which post_message() assigns, so the body is sealed in the same transaction under the lock it
   * took (the day key is already at hand: no KMS call under the lock), over a placeholder that never
   * commits: no plaintext is ever written. Refusals throw the Slack error code, `ekm_required`
   * included (the workspace turned EKM on: get a sealer and call again).
   */
  async postMessage(cmd: PostMessage, sealer?: BodySealer): Promise<Posted> {
    const r = sealer
      ? await inTransaction(this.pool, async (db) => {
          const r = await this.callPostMessage(db, cmd, null, UNSEALED, sealer.dataKeyId);
          if (r.error || r.duplicate) return r;
          const bodyEnc = sealer.seal(packBody(cmd.text, cmd.rich), { seq: r.seq, user: cmd.user });
          await db.query('UPDATE messages SET body_enc = $3 WHERE channel_id = $1 AND seq = $2', [cmd.channel, r.seq, bodyEnc]);
          return r;
        })
      : // Rich content (blocks, a bot's identity) goes in clear with the text, in the same call. Under
        // EKM post_message() refuses a plaintext body (ekm_required) before writing anything.
        await this.callPostMessage(this.pool, cmd, cmd.text, null, null).catch(rethrowEkmRequired);
    if (r.error) throw new SlackError(r.error);
    const seq = Number(r.seq);
    if (!r.duplicate) this.events.noteCommitted(cmd.channel, seq);
    return { seq, ts: r.ts, threadTs: r.thread_ts, duplicate: r.duplicate };
  }

  private async callPostMessage(db: Queryable, cmd: PostMessage, text: string | null, bodyEnc: Buffer | null, dataKeyId: string | null) {
    const { rows } = await db.query<{ error: string | null; seq: string; ts: string; thread_ts: string | null; duplicate: boolean }>({
      name: 'post-message', // prepared once per connection: the hot path skips parse and plan
      text: 'SELECT * FROM post_message($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)',
      values: [
        cmd.workspace,
        cmd.channel,
        cmd.user,
        text,
        cmd.threadTs?.toString() ?? null,
        cmd.replyBroadcast ?? false,
        cmd.clientMsgId ?? null,
        bodyEnc,
        dataKeyId,
        // Sealed bodies carry it inside (packBody); post_message() stores it only beside plaintext.
        bodyEnc || !cmd.rich ? null : JSON.stringify(cmd.rich),
      ],
    });
    return rows[0];
  }
}
