import { Inject, Injectable, type OnModuleDestroy, Optional } from '@nestjs/common';
import pg from 'pg';
import { CONFIG, type Config } from '../config/config.js';
import { inTransaction, type Queryable } from '../db/database.js';
import { PG_POOL } from '../db/database.module.js';
import type { ChannelHead } from '../domain/channel.js';
import type { ChannelEvent } from '../domain/events.js';
import { BodyOpener } from './body-opener.js';
import { ClusterClock } from './cluster-clock.js';
import { type GlobalCursor, START, type StoredData } from './events.js';
import { FanoutHint } from './fanout-hint.js';
import {
  type CheckpointRow,
  checkpointCursor,
  eventsBehind,
  headCursor,
  readAfterCheckpoint,
  readChannel,
  readChannels,
  readGlobal,
  readGlobalCluster,
} from './read-events.js';

export { type CheckpointRow, checkpointCursor } from './read-events.js';

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
    // The append lock first, as post_message() takes it: before the row lock gives this transaction
    // its id, so a channel's events get increasing transaction ids in seq order (global cursor order).
    await this.db.query('SELECT pg_advisory_xact_lock(hashtext(id)) FROM channels WHERE id = $1', [channel]);
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
  /** The per-node clocks of the global cursor when the events table is distributed (Citus). */
  readonly clock: ClusterClock;

  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    @Inject(CONFIG) config: Config,
    /** Opens bodies of EKM workspaces; without it every body is read as stored (benchmarks). */
    @Optional() private readonly opener?: BodyOpener,
  ) {
    this.hint = new FanoutHint(pool, config.NOTIFY_INTERVAL_MS);
    this.clock = new ClusterClock(pool, config.DATABASE_DISTRIBUTION);
    this.logOpener = opener && { openRows: (rows) => opener.openRows(rows, 'hold') };
  }

  /**
   * The opener of the global reads: their consumers move past an event once, so a body whose key
   * service fails stops the read (KeyServiceUnavailable, retried by the consumer's next pass) instead
   * of reaching the search index, unread mentions, jobs or apps as denied (BodyOpener).
   */
  private readonly logOpener?: BodyOpener;

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

  /** Events after each given seq of each given channel (up to `limit` per channel): one statement, except on Citus. */
  async readChannels(
    from: ReadonlyArray<{ channel: string; afterSeq: number }>,
    limit: number,
    db: Queryable = this.pool,
  ): Promise<Map<string, ChannelEvent[]>> {
    if (from.length > 1 && !(await this.clock.distributed())) return readChannels(db, from, limit, this.opener);
    const pages = await Promise.all(from.map((f) => readChannel(db, f.channel, f.afterSeq, limit, this.opener)));
    return new Map(from.map((f, i) => [f.channel, pages[i]]));
  }

  /**
   * Events of every channel after `cursor`, commit-safe (never skips a late commit); each carries the
   * cursor to resume after it. On Citus the cursor has one part per node group (docs/scaling.md).
   */
  async readGlobal(cursor: GlobalCursor, limit: number, db: Queryable = this.pool) {
    if (await this.clock.distributed()) return readGlobalCluster(db, this.clock, cursor, limit, this.logOpener);
    return readGlobal(db, cursor, limit, this.logOpener);
  }

  /** The newest committed event of the log (per node group on Citus); undefined for an empty log. */
  async head(db: Queryable = this.pool): Promise<GlobalCursor | undefined> {
    return headCursor(db, (await this.clock.distributed()) ? this.clock : undefined);
  }

  /** Committed events after `cursor`, counted up to `cap` (per node group), and the age of the oldest in seconds. */
  async behind(cursor: GlobalCursor, cap: number, db: Queryable = this.pool): Promise<{ n: number; age: number | null }> {
    return eventsBehind(db, cursor, cap, (await this.clock.distributed()) ? this.clock : undefined);
  }

  async loadCheckpoint(name: string, db: Queryable = this.pool): Promise<GlobalCursor> {
    const { rows } = await db.query<CheckpointRow>('SELECT tx_id::text, position, parts FROM checkpoints WHERE name = $1', [name]);
    return rows[0] ? checkpointCursor(rows[0]) : START;
  }

  /**
   * A consumer's checkpoint and up to `limit` events after it: one statement on one server, the
   * checkpoint then readGlobal on Citus. Undefined when the consumer has no checkpoint row yet.
   */
  async readAfterCheckpoint(
    name: string,
    limit: number,
    db: Queryable = this.pool,
  ): Promise<{ checkpoint: GlobalCursor; events: Array<ChannelEvent & { cursor: string }> } | undefined> {
    if (!(await this.clock.distributed())) return readAfterCheckpoint(db, name, limit, this.logOpener);
    const { rows } = await db.query<CheckpointRow>('SELECT tx_id::text, position, parts FROM checkpoints WHERE name = $1', [name]);
    if (!rows[0]) return undefined;
    const checkpoint = checkpointCursor(rows[0]);
    return { checkpoint, events: await readGlobalCluster(db, this.clock, checkpoint, limit, this.logOpener) };
  }

  /**
   * Opens the batch transaction of consumers that share checkpoint `from` and moves each named
   * checkpoint to `to`, only if it is still at `from` (a rebuild may have reset one meanwhile):
   * false when one was not, the transaction then still open. The rows stay locked until the
   * transaction ends, which serializes the batch with a rebuild, as storeCheckpoint's upsert does.
   * One round trip for every name: BEGIN and one UPDATE go as one simple query, so the values are
   * literals (digits, and the consumers' own names escaped).
   */
  async beginMovingCheckpoints(db: pg.ClientBase, names: readonly string[], from: GlobalCursor, to: GlobalCursor): Promise<boolean> {
    const results = (await db.query(`BEGIN; ${moveCheckpointsSql(names, from, to)}`)) as unknown as pg.QueryResult[];
    return results[1].rowCount === names.length;
  }

  /**
   * Moves the named checkpoints from `from` to `to` in a statement of their own, each only if it is
   * still at `from` (a rebuild may have reset one meanwhile): false when one was not. For a batch
   * that wrote nothing.
   */
  async moveCheckpoints(db: Queryable, names: readonly string[], from: GlobalCursor, to: GlobalCursor): Promise<boolean> {
    const { rowCount } = await db.query(moveCheckpointsSql(names, from, to));
    return rowCount === names.length;
  }

  /** Store inside the same transaction as the consumer's own writes, so its effect is exactly-once. */
  async storeCheckpoint(db: Queryable, name: string, cursor: GlobalCursor): Promise<void> {
    const parts = partsColumn(cursor);
    await db.query(
      // updated_at from excluded: Citus allows no non-immutable function in DO UPDATE SET.
      `INSERT INTO checkpoints (name, tx_id, position, parts, updated_at) VALUES ($1, $2::xid8, $3, $4::jsonb, now())
       ON CONFLICT (name) DO UPDATE SET tx_id = excluded.tx_id, position = excluded.position, parts = excluded.parts, updated_at = excluded.updated_at`,
      [name, cursor.txId, cursor.position, parts],
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

/** The WHERE of the named checkpoints that are at `at`, as literals (digits, and the names escaped). */
function atCheckpointSql(names: readonly string[], at: GlobalCursor): string {
  return `name IN (${names.map((n) => pg.escapeLiteral(n)).join(', ')}) AND tx_id = '${digits(at.txId)}'::xid8 AND position = ${digits(at.position)}
     AND parts IS NOT DISTINCT FROM ${literal(partsColumn(at))}::jsonb`;
}

/** The UPDATE that moves the named checkpoints that are at `from` to `to`. */
function moveCheckpointsSql(names: readonly string[], from: GlobalCursor, to: GlobalCursor): string {
  return `UPDATE checkpoints SET tx_id = '${digits(to.txId)}'::xid8, position = ${digits(to.position)}, parts = ${literal(partsColumn(to))}::jsonb,
     updated_at = now() WHERE ${atCheckpointSql(names, from)}`;
}

const literal = (v: string | null) => (v === null ? 'NULL' : pg.escapeLiteral(v));

function digits(v: string): string {
  if (!/^\d{1,20}$/.test(v)) throw new Error(`not a cursor part: ${v}`);
  return v;
}

/** The checkpoints.parts value of a cursor: {"<group>": "<tx_id>-<position>"} on Citus, else null. */
function partsColumn(cursor: GlobalCursor): string | null {
  if (!cursor.parts) return null;
  return JSON.stringify(Object.fromEntries(Object.entries(cursor.parts).map(([g, p]) => [g, `${p.txId}-${p.position}`])));
}
