import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../db/database.module.js';
import type { Queryable } from '../db/database.js';
import { BodyCipher, rethrowEkmRequired, type SealedBody } from '../crypto/body-cipher.js';
import { MESSAGE_COLUMNS, type MessageRow } from '../domain/message.js';
import type { RichContent } from '../domain/message-content.js';

/** An edit's new body: sealed (text and rich content in bodyEnc), or text and rich content in clear. */
export type EditedBody = SealedBody & { rich: RichContent | undefined };

export type MessageTarget = Pick<MessageRow, 'channel_id' | 'seq' | 'ts' | 'user_id' | 'thread_ts'>;

/** Message bodies and thread state. Every row it returns has its body opened (EKM workspaces). */
@Injectable()
export class MessagesRepository {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly cipher: BodyCipher,
  ) {}

  /** A live (not deleted) message by ts; lock it when called inside the channel's append transaction. */
  async find(channel: string, ts: bigint, db: Queryable = this.pool): Promise<MessageRow | undefined> {
    const { rows } = await db.query<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE channel_id = $1 AND ts = $2 AND NOT deleted`,
      [channel, ts.toString()],
    );
    await this.cipher.openRows(rows);
    return rows[0];
  }

  /** A live message's place and author, without its body (what chat.update and chat.delete check and change). */
  async target(channel: string, ts: bigint, db: Queryable = this.pool): Promise<MessageTarget | undefined> {
    const { rows } = await db.query<MessageTarget>(
      'SELECT channel_id, seq, ts, user_id, thread_ts FROM messages WHERE channel_id = $1 AND ts = $2 AND NOT deleted',
      [channel, ts.toString()],
    );
    return rows[0];
  }

  /** A message of a thread listing: a live one, or a deleted parent whose replies live on (its tombstone). */
  async findListed(channel: string, ts: bigint): Promise<MessageRow | undefined> {
    const { rows } = await this.pool.query<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE channel_id = $1 AND ts = $2 AND (NOT deleted OR reply_count > 0)`,
      [channel, ts.toString()],
    );
    await this.cipher.openRows(rows);
    return rows[0];
  }

  /** The new body arrives sealed already when the workspace uses EKM. */
  async edit(db: Queryable, channel: string, ts: bigint, body: EditedBody, editedTs: string, editor: string): Promise<MessageRow> {
    const { rows } = await db
      .query<MessageRow>(
        `UPDATE messages SET text = $3, body_enc = $6, data_key_id = $7, rich = $8, edited_ts = $4, edited_by = $5
          WHERE channel_id = $1 AND ts = $2 RETURNING ${MESSAGE_COLUMNS}`,
        [channel, ts.toString(), body.text, editedTs, editor, body.bodyEnc, body.dataKeyId, body.rich ? JSON.stringify(body.rich) : null],
      )
      .catch(rethrowEkmRequired);
    await this.cipher.openRows(rows);
    return rows[0];
  }

  /** Deletes the body (text is gone, not hidden) and keeps the parent's thread summary right. */
  async delete(db: Queryable, msg: MessageTarget): Promise<void> {
    await db.query(
      'UPDATE messages SET text = NULL, body_enc = NULL, attachments = NULL, rich = NULL, deleted = true WHERE channel_id = $1 AND seq = $2',
      [msg.channel_id, msg.seq],
    );
    if (msg.thread_ts) {
      await db.query(
        `UPDATE messages p SET reply_count = greatest(p.reply_count - 1, 0),
                latest_reply = (SELECT max(r.ts) FROM messages r
                                 WHERE r.channel_id = p.channel_id AND r.thread_ts = p.ts AND NOT r.deleted)
          WHERE p.channel_id = $1 AND p.ts = $2`,
        [msg.channel_id, msg.thread_ts],
      );
    }
  }

  /**
   * conversations.history: top-level messages and thread broadcasts with from <= ts <= to, newest
   * first; a deleted parent stays (as a tombstone) while it has replies.
   */
  async history(channel: string, from: bigint, to: bigint, limit: number): Promise<MessageRow[]> {
    const { rows } = await this.pool.query<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages
        WHERE channel_id = $1 AND ts BETWEEN $2 AND $3 AND (NOT deleted OR reply_count > 0) AND (thread_ts IS NULL OR reply_broadcast)
        ORDER BY ts DESC LIMIT $4`,
      [channel, from.toString(), to.toString(), limit],
    );
    await this.cipher.openRows(rows);
    return rows;
  }

  /** conversations.replies: the thread's replies after `afterTs`, oldest first. */
  async replies(channel: string, threadTs: bigint, afterTs: bigint, limit: number): Promise<MessageRow[]> {
    const { rows } = await this.pool.query<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages
        WHERE channel_id = $1 AND thread_ts = $2 AND NOT deleted AND ts > $3
        ORDER BY ts LIMIT $4`,
      [channel, threadTs.toString(), afterTs.toString(), limit],
    );
    await this.cipher.openRows(rows);
    return rows;
  }
}
