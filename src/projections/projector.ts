import pg from 'pg';
import type { Queryable } from '../db/database.js';
import { checkpointCursor, type CheckpointRow, type EventStore } from '../event-store/event-store.js';
import { cursorBehind, formatCursor, type GlobalCursor, parseCursor, START } from '../event-store/events.js';
import type { GlobalEvent } from './projection.js';
import { EVENTS_NOTIFY_CHANNEL } from '../event-store/fanout-hint.js';
import type { Projection } from './projection.js';

export interface ProjectorOptions {
  /** For the dedicated leader connection (advisory lock + batches). */
  databaseUrl: string;
  /** For reads outside the batches: checkpoint, lag. */
  pool: Queryable;
  batchSize: number;
  /** Poll period; NOTIFY wakes the projector sooner. */
  intervalMs: number;
  /**
   * Least time between the starts of two woken passes (CONSUMER_PASS_GAP_MS; default 0): the
   * NOTIFYs of a burst are served by one pass and one batch instead of a pass each.
   */
  gapMs?: number;
  onError?: (err: unknown) => void;
}

export interface ProjectionLag {
  /** Committed events after the checkpoint (counted up to 10,000; `capped` when there are more). */
  events_behind: number;
  capped: boolean;
  /** Age of the oldest event not applied yet, in seconds (0 when caught up). */
  seconds_behind: number;
  checkpoint: string;
}

const LAG_COUNT_CAP = 10_000;

/**
 * Applies the global log to one projection, or to several together (the projector's unread counts
 * and search index): each batch and its checkpoints in one transaction (at-least-once reads,
 * exactly-once effect). One leader per projection across every node: the session advisory locks
 * held by a dedicated connection, which also runs the batches, so losing the connection aborts the
 * batch and frees the lead together; a group leads only while it holds every member's lock.
 * Members at the same checkpoint (the usual case) share each batch's read, the connection and its
 * LISTEN, and one transaction: a pass costs the same round trips for two projections as for one,
 * and each event is read and parsed once. Each batch moves the checkpoint rows first, only if they
 * are where the batch was read from, which locks them and so serializes the batch with a concurrent
 * rebuild reset. Wake-ups are coalesced (`gapMs`): the cost of a pass is a few round trips whether
 * it applies one event or a thousand.
 */
export class Projector {
  private client: pg.Client | undefined;
  private leading = false;
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private queued = false;
  private stopped = false;
  /** performance.now() when the last woken pass started. */
  private lastStart = -Infinity;
  /** Events applied by this projector since it was created, by any pass (a poll, a NOTIFY, runOnce). */
  private appliedTotal = 0;
  readonly projections: readonly Projection[];
  /**
   * Each member's checkpoint while this node leads: no other node moves it then, so a pass woken by
   * NOTIFY reads the log without reading the checkpoints. Loaded again on taking the lead, by a poll
   * or runOnce (a rebuild's reset shows there), and after a move that found a checkpoint elsewhere.
   */
  private checkpoints: Map<string, GlobalCursor> | undefined;

  constructor(
    projections: Projection | readonly Projection[],
    private readonly store: EventStore,
    private readonly options: ProjectorOptions,
  ) {
    this.projections = Array.isArray(projections) ? projections : [projections as Projection];
    if (!this.projections.length) throw new Error('a projector needs a projection');
  }

  /** The members' names, for logs and errors. */
  private get name(): string {
    return this.projections.map((p) => p.name).join('+');
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Polls every intervalMs and on each NOTIFY from the event store. */
  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.wake(true), this.options.intervalMs);
    this.timer.unref();
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.chain.catch(() => {});
    await this.disconnect();
  }

  /**
   * Runs a pass unless one is already waiting to start, no sooner than `gapMs` after the last one
   * started. A wake-up during a running pass queues another one: the running pass may have read
   * before the woken-for events were readable. Wake-ups while one waits to start are served by it.
   * `reload`: the pass reads the checkpoints first (the poll does, to see a rebuild's reset).
   */
  wake(reload = false): void {
    if (reload) this.checkpoints = undefined;
    if (this.queued || this.stopped) return;
    this.queued = true;
    const pass = this.chain
      .catch(() => {})
      .then(async () => {
        const wait = this.lastStart + (this.options.gapMs ?? 0) - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        this.queued = false;
        this.lastStart = performance.now();
        return this.pass();
      });
    this.chain = pass;
    pass.catch((err) => this.options.onError?.(err));
  }

  /**
   * One pass: takes the lead if free, then applies batches until the log (below xmin) is exhausted.
   * `reload` (default): reads the checkpoints first, to see a rebuild's reset; a consumer that no
   * rebuild resets (the job dispatcher) passes false and reads only the log.
   */
  runOnce({ reload = true }: { reload?: boolean } = {}): Promise<number> {
    if (reload) this.checkpoints = undefined;
    const pass = this.chain.catch(() => {}).then(() => this.pass());
    this.chain = pass;
    return pass;
  }

  /**
   * Waits until the checkpoint reaches the end of the log visible at the call (every event committed
   * before it is applied, by this node or by the leader on another one). Returns how many events
   * this projector applied meanwhile, whichever pass applied them: a NOTIFY wake-up or a poll
   * may run a pass between ours. Used by the rebuild command and by tests; polls with a short back-off.
   */
  async catchUp(opts: { timeoutMs?: number; onProgress?: (applied: number) => void } = {}): Promise<number> {
    const db = this.options.pool;
    const target = await this.store.head(db);
    const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
    const start = this.appliedTotal;
    let reported = 0;
    let pause = 5;
    for (;;) {
      const n = await this.runOnce();
      const applied = this.appliedTotal - start;
      if (applied !== reported) opts.onProgress?.((reported = applied));
      if (!target || !(await this.behindAny(target, db))) return applied;
      if (Date.now() > deadline) throw new Error(`projection ${this.name}: not caught up after ${opts.timeoutMs ?? 30_000} ms`);
      if (!n) {
        // Waiting on a transaction that is still open somewhere (xmin), or on another node's leader.
        await new Promise((r) => setTimeout(r, pause));
        pause = Math.min(pause * 2, 200);
      }
    }
  }

  private async behindAny(target: GlobalCursor, db: Queryable): Promise<boolean> {
    for (const p of this.projections) if (cursorBehind(await this.store.loadCheckpoint(p.name, db), target)) return true;
    return false;
  }

  /** The lag of one member (the first by default). */
  async lag(name = this.projections[0].name, db: Queryable = this.options.pool): Promise<ProjectionLag> {
    const cp = await this.store.loadCheckpoint(name, db);
    const behind = await this.store.behind(cp, LAG_COUNT_CAP + 1, db);
    const n = behind.n;
    return {
      events_behind: Math.min(n, LAG_COUNT_CAP),
      capped: n > LAG_COUNT_CAP,
      seconds_behind: Math.max(0, Math.round((behind.age ?? 0) * 1000) / 1000),
      checkpoint: formatCursor(cp),
    };
  }

  /**
   * One pass: takes the lead if free, then applies batches until the log (below xmin) is exhausted.
   * An idle pass is one statement (the checkpoint and the events after it, read together).
   */
  private async pass(): Promise<number> {
    if (this.stopped) return 0;
    let client: pg.Client;
    try {
      client = await this.lead();
    } catch (err) {
      await this.disconnect();
      throw err;
    }
    if (!this.leading) return 0;
    let total = 0;
    try {
      // A stopping node stops between batches: the rest of a backlog is the next leader's.
      while (!this.stopped) {
        const checkpoints = (this.checkpoints ??= await loadCheckpoints(client, this.projections));
        let full = false;
        for (const [from, members] of atSameCheckpoint(this.projections, checkpoints)) {
          const n = await this.applyBatch(client, members, from);
          if (n === undefined) {
            this.checkpoints = undefined; // a checkpoint moved under the read (a rebuild reset it): read them again
            full = true;
            break;
          }
          total += n;
          this.appliedTotal += n;
          full ||= n === this.options.batchSize;
        }
        if (!full) break;
      }
      return total;
    } catch (err) {
      // Nothing of the failed batch stays: its writes and its checkpoints roll back together.
      // A connection that cannot even roll back is dropped, and the lead with it.
      this.checkpoints = undefined;
      await client.query('ROLLBACK').catch(() => this.disconnect());
      throw err;
    }
  }

  /**
   * One batch of the members at checkpoint `from`: reads the events after it (outside a transaction:
   * an idle read burns no transaction id and locks no row), then applies them to every member at
   * once. The transaction opens with the first statement a member sends: BEGIN and the checkpoint
   * moves go just before it, in the same round trip (the row locks serialize the batch with a
   * rebuild reset), the members' statements share round trips, and COMMIT ends it: a pass of two
   * projections that send one statement each is three round trips, the read included. A batch that
   * sends no statement (a dispatcher with nothing to look up) only moves the checkpoints. A move
   * happens only if the checkpoint is still at `from`: else the batch rolls back and undefined says
   * so (read the checkpoints again). Returns how many events it applied.
   */
  private async applyBatch(client: pg.Client, members: readonly Projection[], from: GlobalCursor): Promise<number | undefined> {
    const events: readonly GlobalEvent[] = await this.store.readGlobal(from, this.options.batchSize, client);
    if (!events.length) return 0;
    const next = parseCursor(events[events.length - 1].cursor)!;
    const names = members.map((p) => p.name);
    // The first statement a member sends opens the transaction: BEGIN and one move of every
    // member's checkpoint go out just before it, on the pipelined connection.
    let moves: Promise<boolean> | undefined;
    const tx: Queryable = {
      query: ((...args: Parameters<pg.Client['query']>) => {
        moves ??= this.store.beginMovingCheckpoints(client, names, from, next);
        return client.query(...args);
      }) as Queryable['query'],
    };
    // The members' statements share the round trips: they touch different tables, so their order
    // within the transaction does not matter.
    const applied = await Promise.allSettled(members.map((p) => p.apply(tx, events)));
    const failed = applied.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await moves?.catch(() => {});
      throw failed.reason; // the pass rolls back
    }
    if (!moves) {
      if (!(await this.store.moveCheckpoints(client, names, from, next))) return undefined;
    } else if (!(await moves)) {
      await client.query('ROLLBACK'); // a checkpoint was elsewhere: nothing of the batch stays
      return undefined;
    } else {
      await client.query('COMMIT');
    }
    for (const p of members) this.checkpoints?.set(p.name, next);
    return events.length;
  }

  /** The dedicated connection, holding the projection's advisory lock when this node leads. */
  private async lead(): Promise<pg.Client> {
    const client = await this.connection();
    if (!this.leading) {
      // Every member's lock, or none: those taken are given back when another node holds one.
      const { rows } = await client.query<{ key: string; ok: boolean }>(
        'SELECT k.key, pg_try_advisory_lock(hashtext(k.key)) AS ok FROM unnest($1::text[]) AS k(key)',
        [this.projections.map((p) => lockKey(p.name))],
      );
      this.leading = rows.every((r) => r.ok);
      const taken = rows.filter((r) => r.ok).map((r) => r.key);
      if (!this.leading && taken.length) await client.query('SELECT pg_advisory_unlock(hashtext(k)) FROM unnest($1::text[]) AS k', [taken]);
      if (this.leading) {
        this.checkpoints = undefined;
        await client.query(`LISTEN ${EVENTS_NOTIFY_CHANNEL}`);
      }
    }
    return client;
  }

  private async connection(): Promise<pg.Client> {
    if (this.client) return this.client;
    // Pipelined: a batch's checkpoint moves and the members' statements go out without waiting for
    // each other's answers (one round trip where there were one per statement).
    const client = new pg.Client({
      connectionString: this.options.databaseUrl,
      application_name: `projector:${this.name}`,
      pipeline: true,
    });
    client.on('error', (err) => {
      // The lock went with the connection; the next pass reconnects and competes for it again.
      if (this.client === client) {
        this.client = undefined;
        this.leading = false;
      }
      this.options.onError?.(err);
    });
    client.on('notification', () => this.wake());
    await client.connect();
    this.client = client;
    return client;
  }

  private async disconnect(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.leading = false;
    await client?.end().catch(() => {});
  }
}

export const lockKey = (projection: string) => `atomcast:projection:${projection}`;

/**
 * Creates a consumer's checkpoint at START if it has none. Read first, inserted only when missing:
 * on Citus checkpoints is a reference table, where every write goes to every node.
 */
async function ensureCheckpoint(db: Queryable, name: string): Promise<void> {
  await db.query(`INSERT INTO checkpoints (name, tx_id, position) VALUES ($1, '0', 0) ON CONFLICT (name) DO NOTHING`, [name]);
}

/**
 * The members grouped by checkpoint, each group to be served by one read: one group unless a member
 * is being rebuilt (its groups merge again when it reaches the same event as the others).
 */
function atSameCheckpoint(
  projections: readonly Projection[],
  checkpoints: ReadonlyMap<string, GlobalCursor>,
): Array<[GlobalCursor, Projection[]]> {
  const groups = new Map<string, [GlobalCursor, Projection[]]>();
  for (const p of projections) {
    const cursor = checkpoints.get(p.name)!;
    const key = formatCursor(cursor);
    const group = groups.get(key);
    if (group) group[1].push(p);
    else groups.set(key, [cursor, [p]]);
  }
  return [...groups.values()];
}

/** Each projection's checkpoint (created at START if missing), in one statement when all exist. */
async function loadCheckpoints(db: Queryable, projections: readonly Projection[]): Promise<Map<string, GlobalCursor>> {
  const names = projections.map((p) => p.name);
  const load = () =>
    db.query<CheckpointRow & { name: string }>('SELECT name, tx_id::text, position, parts FROM checkpoints WHERE name = ANY($1::text[])', [
      names,
    ]);
  let { rows } = await load();
  if (rows.length < names.length) {
    for (const name of names) await ensureCheckpoint(db, name);
    ({ rows } = await load());
  }
  return new Map(rows.map((r) => [r.name, checkpointCursor(r)]));
}

/** The checkpoint, row-locked for the rest of the transaction (created at START if missing). */
export async function lockCheckpoint(db: Queryable, name: string): Promise<GlobalCursor> {
  const sql = 'SELECT tx_id::text, position, parts FROM checkpoints WHERE name = $1 FOR UPDATE';
  let { rows } = await db.query<CheckpointRow>(sql, [name]);
  if (!rows[0]) {
    await ensureCheckpoint(db, name);
    ({ rows } = await db.query<CheckpointRow>(sql, [name]));
  }
  return rows[0] ? checkpointCursor(rows[0]) : START;
}
