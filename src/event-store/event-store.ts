import { Inject, Injectable, type OnModuleDestroy, Optional } from '@nestjs/common';
import type pg from 'pg';
import { CONFIG, type Config } from '../config/config.js';
import { inTransaction, type Queryable } from '../db/database.js';
import { PG_POOL } from '../db/database.module.js';
import type { ChannelHead } from '../domain/channel.js';
import type { ChannelEvent } from '../domain/events.js';
import { BodyOpener } from './body-opener.js';
import { type GlobalCursor, START, type StoredData } from './events.js';
import { FanoutHint } from './fanout-hint.js';
import { readChannel, readGlobal } from './read-events.js';

export interface Appended {
  seq: number;
  ts: string; // microseconds
}

/** Events without a payload take no data argument; the others must be given theirs. */
type DataArg<T extends keyof StoredData> = Record<string, never> extends StoredData[T] ? [data?: StoredData[T]] : [data: StoredData[T]];

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
      `SELECT id, workspace_id, name, is_private, is_archived, creator, head_seq, kind
         FROM channels WHERE id = $1 AND ($2::text IS NULL OR workspace_id = $2) FOR NO KEY UPDATE`,
      [channel, workspace ?? null],
    );
    return rows[0];
  }

  /** Appends one event; `user` is null for events the system records (retention redactions). */
  async append<T extends keyof StoredData>(channel: string, type: T, user: string | null, ...[data]: DataArg<T>): Promise<Appended> {
    const { rows } = await this.db.query<{ seq: string; ts: string }>('SELECT seq, ts FROM append_event($1, $2, $3, $4, NULL)', [
      channel,
      type,
      user,
      data ?? {},
    ]);
    const seq = Number(rows[0].seq);
    this.appended.push({ channel, seq });
    return { seq, ts: rows[0].ts };
  }

  /** Appends one event per `data`, in order, in one round trip. */
  async appendMany<T extends keyof StoredData>(
    channel: string,
    type: T,
    user: string | null,
    data: Array<StoredData[T]>,
  ): Promise<Appended[]> {
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

/**
 * The channel streams: appends, reads by seq, the global cursor and consumer checkpoints. It knows
 * no Slack method; chat.postMessage's one-round-trip append (post_message()) lives with the chat
 * use case and reports its commits here (`noteCommitted`).
 */
@Injectable()
export class EventStore implements OnModuleDestroy {
  private readonly hint: FanoutHint;

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    @Inject(CONFIG) config: Config,
    /** Opens bodies of EKM workspaces; without it every body is read as stored (benchmarks). */
    @Optional() private readonly opener?: BodyOpener,
  ) {
    this.hint = new FanoutHint(pool, config.NOTIFY_INTERVAL_MS);
  }

  /** Runs `work` in one transaction; the events it appended are hinted to the relay after commit. */
  async transaction<T>(work: (tx: StreamTransaction) => Promise<T>): Promise<T> {
    let stream: StreamTransaction | undefined;
    const result = await inTransaction(this.pool, (client) => work((stream = new StreamTransaction(client))));
    for (const { channel, seq } of stream!.appended) this.hint.note(channel, seq);
    return result;
  }

  /** An append committed outside `transaction` (post_message()): tells this node's relay and, by NOTIFY, the others. */
  noteCommitted(channel: string, seq: number): void {
    this.hint.note(channel, seq);
  }

  readChannel(channel: string, afterSeq: number, limit: number, db: Queryable = this.pool): Promise<ChannelEvent[]> {
    return readChannel(db, channel, afterSeq, limit, this.opener);
  }

  readGlobal(cursor: GlobalCursor, limit: number, db: Queryable = this.pool) {
    return readGlobal(db, cursor, limit, this.opener);
  }

  async loadCheckpoint(name: string, db: Queryable = this.pool): Promise<GlobalCursor> {
    const { rows } = await db.query<{ tx_id: string; position: string }>('SELECT tx_id::text, position FROM checkpoints WHERE name = $1', [
      name,
    ]);
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
