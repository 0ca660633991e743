import { Inject, Injectable, type OnModuleDestroy, Optional } from '@nestjs/common';
import type pg from 'pg';
import { CONFIG, type Config } from '../config/config.js';
import { BodyCipher } from '../crypto/body-cipher.js';
import { inTransaction, type Queryable } from '../db/database.js';
import { SlackError } from '../domain/slack-error.js';
import { PG_POOL } from '../db/database.module.js';
import { type ChannelEvent, type ChannelEventType, type GlobalCursor, START } from './events.js';
import { FanoutHint } from './fanout-hint.js';
import { readChannel, readGlobal } from './read-events.js';

export interface ChannelHead {
  id: string;
  workspace_id: string;
  name: string;
  is_private: boolean;
  is_archived: boolean;
  creator: string;
  head_seq: string;
}

export interface Appended {
  seq: number;
  ts: string; // microseconds
}

/** The one writer of a channel stream inside a transaction: the channel row lock orders every append. */
export class StreamTransaction {
  readonly appended: Array<{ channel: string; seq: number }> = [];

  constructor(readonly db: pg.PoolClient) {}

  /**
   * Locks the channel's head row until commit (appends exclude each other; foreign-key checks of
   * membership rows do not wait); undefined if it is not in the workspace (when given).
   */
  async lockChannel(channel: string, workspace?: string): Promise<ChannelHead | undefined> {
    const { rows } = await this.db.query<ChannelHead>(
      `SELECT id, workspace_id, name, is_private, is_archived, creator, head_seq
         FROM channels WHERE id = $1 AND ($2::text IS NULL OR workspace_id = $2) FOR NO KEY UPDATE`,
      [channel, workspace ?? null],
    );
    return rows[0];
  }

  /** Appends one event; `user` is null for events the system records (retention redactions). */
  async append(channel: string, type: ChannelEventType, user: string | null, data: object = {}): Promise<Appended> {
    const { rows } = await this.db.query<{ seq: string; ts: string }>(
      'SELECT seq, ts FROM append_event($1, $2, $3, $4, NULL)',
      [channel, type, user, data],
    );
    const seq = Number(rows[0].seq);
    this.appended.push({ channel, seq });
    return { seq, ts: rows[0].ts };
  }

  /** Appends one event per `data`, in order, in one round trip. */
  async appendMany(channel: string, type: ChannelEventType, user: string | null, data: object[]): Promise<Appended[]> {
    if (!data.length) return [];
    const { rows } = await this.db.query<{ seq: string; ts: string }>(
      'SELECT seq, ts FROM append_events($1, $2, $3, $4::jsonb[]) ORDER BY seq',
      [channel, type, user, data.map((d) => JSON.stringify(d))],
    );
    const appended = rows.map((r) => ({ seq: Number(r.seq), ts: r.ts }));
    this.appended.push({ channel, seq: appended[appended.length - 1].seq });
    return appended;
  }
}

type PostMessageResult = { error: string | null; seq: string; ts: string; thread_ts: string | null; duplicate: boolean };

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
}

export interface Posted extends Appended {
  threadTs: string | null;
  duplicate: boolean;
}

/** The only code that writes the events table: appends, reads by seq, and the global cursor. */
@Injectable()
export class EventStore implements OnModuleDestroy {
  private readonly hint: FanoutHint;

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    @Inject(CONFIG) config: Config,
    /** Seals and opens bodies of EKM workspaces; without it every body is plaintext (benchmarks). */
    @Optional() private readonly cipher?: BodyCipher,
  ) {
    this.hint = new FanoutHint(pool, config.NOTIFY_INTERVAL_MS);
  }

  /** chat.postMessage: one round trip; every check that must agree with the append runs under the channel lock. */
  async postMessage(cmd: PostMessage): Promise<Posted> {
    let r = await this.callPostMessage(cmd, false);
    // Our cached view said "no EKM" but the workspace has it now: seal with fresh settings, once.
    if (r.error === 'ekm_required' && this.cipher) r = await this.callPostMessage(cmd, true);
    if (r.error) throw new SlackError(r.error);
    const seq = Number(r.seq);
    if (!r.duplicate) this.hint.note(cmd.channel, seq);
    return { seq, ts: r.ts, threadTs: r.thread_ts, duplicate: r.duplicate };
  }

  private async callPostMessage(cmd: PostMessage, freshSettings: boolean): Promise<PostMessageResult> {
    const sealer = await this.cipher?.sealer(cmd.workspace, cmd.channel, freshSettings);
    if (!sealer) return this.runPostMessage(this.pool, cmd, cmd.text, null, null);
    // EKM: the box is bound to the message's seq, which post_message assigns. The body is sealed in
    // the same transaction, under the channel lock post_message took (the key of the day is already
    // at hand: no KMS call under the lock); no plaintext is ever written, the placeholder never commits.
    return inTransaction(this.pool, async (db) => {
      const r = await this.runPostMessage(db, cmd, null, UNSEALED, sealer.dataKeyId);
      if (r.error || r.duplicate) return r;
      await db.query('UPDATE messages SET body_enc = $3 WHERE channel_id = $1 AND seq = $2', [cmd.channel, r.seq, sealer.seal(cmd.text, { seq: r.seq, user: cmd.user })]);
      return r;
    });
  }

  private async runPostMessage(db: Queryable, cmd: PostMessage, text: string | null, bodyEnc: Buffer | null, dataKeyId: string | null) {
    const { rows } = await db.query<PostMessageResult>({
      name: 'post-message', // prepared once per connection: the hot path skips parse and plan
      text: 'SELECT * FROM post_message($1, $2, $3, $4, $5, $6, $7, $8, $9)',
      values: [
        cmd.workspace, cmd.channel, cmd.user, text, cmd.threadTs?.toString() ?? null, cmd.replyBroadcast ?? false,
        cmd.clientMsgId ?? null, bodyEnc, dataKeyId,
      ],
    });
    return rows[0];
  }

  /** Runs `work` in one transaction; the events it appended are hinted to the relay after commit. */
  async transaction<T>(work: (tx: StreamTransaction) => Promise<T>): Promise<T> {
    let stream: StreamTransaction | undefined;
    const result = await inTransaction(this.pool, (client) => work((stream = new StreamTransaction(client))));
    for (const { channel, seq } of stream!.appended) this.hint.note(channel, seq);
    return result;
  }

  readChannel(channel: string, afterSeq: number, limit: number, db: Queryable = this.pool): Promise<ChannelEvent[]> {
    return readChannel(db, channel, afterSeq, limit, this.cipher);
  }

  readGlobal(cursor: GlobalCursor, limit: number, db: Queryable = this.pool) {
    return readGlobal(db, cursor, limit, this.cipher);
  }

  async loadCheckpoint(name: string, db: Queryable = this.pool): Promise<GlobalCursor> {
    const { rows } = await db.query<{ tx_id: string; position: string }>(
      'SELECT tx_id::text, position FROM checkpoints WHERE name = $1',
      [name],
    );
    return rows[0] ? { txId: rows[0].tx_id, position: rows[0].position } : START;
  }

  /** Store inside the same transaction as the consumer's own writes, so its effect is exactly-once. */
  async storeCheckpoint(db: Queryable, name: string, cursor: GlobalCursor): Promise<void> {
    await db.query(
      `INSERT INTO checkpoints (name, tx_id, position) VALUES ($1, $2::xid8, $3)
       ON CONFLICT (name) DO UPDATE SET tx_id = excluded.tx_id, position = excluded.position, updated_at = now()`,
      [name, cursor.txId, cursor.position],
    );
  }

  /** Calls `listener` after every commit that appended (channel, seq) on this node. */
  onAppended(listener: (channel: string, seq: number) => void): void {
    this.hint.onNote(listener);
  }

  /** Sends any hint still waiting (tests and shutdown). */
  flushHints(): Promise<void> {
    return this.hint.flush();
  }

  async onModuleDestroy(): Promise<void> {
    await this.hint.flush();
  }
}
