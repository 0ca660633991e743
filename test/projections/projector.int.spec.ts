import pg from 'pg';
import { ChatRepository } from '../../src/api/chat/chat.repository.js';
import { loadConfig } from '../../src/config/config.js';
import type { Queryable } from '../../src/db/database.js';
import { EventStore } from '../../src/event-store/event-store.js';
import { START } from '../../src/event-store/events.js';
import type { GlobalEvent, Projection } from '../../src/projections/projection.js';
import { Projector } from '../../src/projections/projector.js';
import { UnreadCountsRepository } from '../../src/projections/unread/unread-counts.repository.js';
import { UnreadProjection } from '../../src/projections/unread/unread.projection.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { waitFor } from '../support/wait-for.js';
import { seedChannel } from '../support/fixtures.js';

// The projector against a real database: exactly-once effect across crashes, no skipped event
// behind a slow writer, one leader at a time.
describe('projector', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let store: EventStore;
  let counts: UnreadCountsRepository;
  const projectors: Projector[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 10 });
    // A session killed on purpose below may surface as an idle client's error: the app's pools
    // (createPool) ignore those the same way.
    pool.on('error', () => {});
    store = new EventStore(pool, loadConfig({ DATABASE_URL: db.url }));
    await pool.query('CREATE TABLE recorded_events (id serial PRIMARY KEY, projection text NOT NULL, event text NOT NULL)');
    counts = new UnreadCountsRepository(pool);
  });
  // Each test starts with no projector holding the lead.
  afterEach(async () => {
    await Promise.all(projectors.splice(0).map((p) => p.stop()));
  });
  afterAll(async () => {
    await store.flushHints();
    await pool.end();
    await db.drop();
  });

  const projector = (projection: Projection, batchSize = 1000) => {
    const p = new Projector(projection, store, { databaseUrl: db.url, pool, batchSize, intervalMs: 60_000 });
    projectors.push(p);
    return p;
  };
  const post = (channel: string, text: string, user = 'UPOSTER') =>
    new ChatRepository(pool, store).postMessage({ workspace: 'TSEED', channel, user, text });
  const unread = async (user: string, channel: string) => (await counts.forChannel(user, channel))?.unread;
  const rows = async (channel: string) =>
    (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM unread_messages WHERE channel_id = $1', [channel])).rows[0].n;

  let crashes = 0;

  /**
   * The global cursor shows only transactions older than every open one in the whole cluster (other
   * test files run beside this one): wait until `n` events after `from` can be read.
   */
  const readableGlobally = async (from: typeof START, n: number) => {
    for (let i = 0; i < 400 && (await store.readGlobal(from, n)).length < n; i++) await new Promise((r) => setTimeout(r, 25));
    expect(await store.readGlobal(from, n)).toHaveLength(n);
  };

  /** Fails its `failOnBatch`-th batch after applying half of it, the way a crash would interrupt it. */
  class CrashingProjection implements Projection {
    readonly name = 'unread';
    readonly tables = ['unread_messages'];
    batches = 0;
    constructor(
      private readonly failOnBatch: number,
      private readonly crash: (db: Queryable) => Promise<void>,
    ) {}
    async apply(db: Queryable, events: readonly GlobalEvent[]) {
      const real = new UnreadProjection();
      if (++this.batches !== this.failOnBatch) return real.apply(db, events);
      await real.apply(db, events.slice(0, Math.ceil(events.length / 2)));
      await this.crash(db);
    }
  }

  it.each([
    [
      'the apply throws half-way through a batch',
      async () => {
        throw new Error('crash in the middle of the batch');
      },
    ],
    [
      'the connection is killed half-way through a batch',
      async (tx: Queryable) => {
        const {
          rows: [{ pid }],
        } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        await pool.query('SELECT pg_terminate_backend($1)', [pid]);
        await tx.query('SELECT 1'); // the killed session fails here, as a dead process would
      },
    ],
  ])('resumes without double counting or skipping when %s', async (_, crash) => {
    const channel = `CCRASH${++crashes}`;
    await seedChannel(pool, { channel, users: ['UPOSTER', 'UREADER'] });
    const warmup = projector(new UnreadProjection());
    await warmup.catchUp(); // earlier tests' events are out of the way
    await warmup.stop();
    const before = await store.loadCheckpoint('unread');
    for (let i = 0; i < 10; i++) await post(channel, `message ${i}`);
    await readableGlobally(before, 10);

    const crashing = projector(new CrashingProjection(2, crash), 4);
    await expect(crashing.runOnce()).rejects.toThrow();
    // The first batch (4 events) committed with its checkpoint; nothing of the second one stayed.
    expect(await rows(channel)).toBe(4);
    const after = await store.loadCheckpoint('unread');
    expect(after).not.toEqual(before);
    const applied = await pool.query(
      'SELECT count(*)::int AS n FROM events WHERE (tx_id, position) <= ($1::xid8, $2::bigint) AND channel_id = $3',
      [after.txId, after.position, channel],
    );
    expect(applied.rows[0].n).toBe(4);
    await crashing.stop();

    // A restarted projector (a new process) resumes from the checkpoint.
    await projector(new UnreadProjection(), 4).catchUp();
    expect(await rows(channel)).toBe(10);
    expect(await unread('UREADER', channel)).toBe(10);
    expect(await unread('UPOSTER', channel)).toBe(0);
    const seqs = await pool.query('SELECT seq FROM unread_messages WHERE channel_id = $1 ORDER BY seq', [channel]);
    expect(seqs.rows.map((r) => Number(r.seq))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('stops between batches when stopped during a backlog; the next leader applies the rest once', async () => {
    await seedChannel(pool, { channel: 'CSTOP', users: ['UPOSTER', 'UREADER'] });
    const warmup = projector(new UnreadProjection());
    await warmup.catchUp();
    await warmup.stop();
    const before = await store.loadCheckpoint('unread');
    for (let i = 0; i < 40; i++) await post('CSTOP', `message ${i}`);
    await readableGlobally(before, 40);

    // Each batch of 2 waits a little, so the stop lands while most of the backlog is still ahead.
    const unreadProjection = new UnreadProjection();
    const slow: Projection = {
      name: unreadProjection.name,
      tables: unreadProjection.tables,
      apply: async (db, events) => {
        await new Promise((r) => setTimeout(r, 20));
        await unreadProjection.apply(db, events);
      },
    };
    const stopping = projector(slow, 2);
    const pass = stopping.runOnce();
    // Stop once the first batch is in (a fixed delay raced the connect and lead on a loaded box).
    await waitFor(async () => (await rows('CSTOP')) > 0, 10_000, 'the first batch');
    await stopping.stop();
    await pass;
    expect(await rows('CSTOP')).toBeLessThan(40); // it did not work through the whole backlog before stopping

    await projector(new UnreadProjection(), 4).catchUp();
    const seqs = await pool.query('SELECT seq FROM unread_messages WHERE channel_id = $1 ORDER BY seq', ['CSTOP']);
    expect(seqs.rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });

  it('a slow append transaction holds the projector back instead of being skipped', async () => {
    await seedChannel(pool, { channel: 'CSLOW', users: ['UPOSTER', 'UREADER'] });
    await seedChannel(pool, { channel: 'CFAST', users: ['UPOSTER', 'UREADER'] });
    const p = projector(new UnreadProjection(), 2);
    await p.catchUp();

    const slow = new pg.Client({ connectionString: db.url });
    await slow.connect();
    try {
      await slow.query('BEGIN');
      await slow.query(`SELECT * FROM post_message('TSEED', 'CSLOW', 'UPOSTER', 'slow', NULL, false, NULL)`);
      const {
        rows: [{ xid }],
      } = await slow.query<{ xid: string }>('SELECT pg_current_xact_id()::text AS xid');
      // Later transactions commit while the slow one is still open.
      for (let i = 0; i < 3; i++) await post('CFAST', `fast ${i}`);
      await p.runOnce();
      // The checkpoint never moves past a transaction that is still open.
      expect(BigInt((await store.loadCheckpoint('unread')).txId)).toBeLessThan(BigInt(xid));
      expect(await unread('UREADER', 'CFAST')).toBe(0);
      await slow.query('COMMIT');
    } finally {
      await slow.end();
    }
    await p.catchUp();
    expect(await unread('UREADER', 'CSLOW')).toBe(1);
    expect(await unread('UREADER', 'CFAST')).toBe(3);
  });

  it('one leader per projection: a second projector stays idle until the first one stops', async () => {
    await seedChannel(pool, { channel: 'CLEADER', users: ['UPOSTER', 'UREADER'] });
    const first = new Projector(new UnreadProjection(), store, { databaseUrl: db.url, pool, batchSize: 100, intervalMs: 20 });
    projectors.push(first);
    const second = projector(new UnreadProjection());
    first.start();
    await first.runOnce();
    await post('CLEADER', 'one');
    expect(await second.runOnce()).toBe(0);
    expect([first.isLeader, second.isLeader]).toEqual([true, false]);
    expect(await second.catchUp()).toBe(0); // waits for the leader's progress, applies nothing itself
    expect(await unread('UREADER', 'CLEADER')).toBe(1);

    await first.stop();
    await post('CLEADER', 'two');
    expect(await second.catchUp()).toBeGreaterThanOrEqual(1);
    expect(second.isLeader).toBe(true);
    expect(await unread('UREADER', 'CLEADER')).toBe(2);
  });

  it('catchUp counts the events this projector applied, also those a NOTIFY wake-up applied', async () => {
    await seedChannel(pool, { channel: 'CWAKE', users: ['UPOSTER', 'UREADER'] });
    const warmup = projector(new UnreadProjection());
    await warmup.catchUp();
    await warmup.stop();
    const before = await store.loadCheckpoint('unread');
    await post('CWAKE', 'one');
    await post('CWAKE', 'two');
    await readableGlobally(before, 2);
    // A fresh projector (not listening yet) woken just before the call: the wake-up's pass takes
    // the lead and applies both events, the catch-up's own passes find nothing left.
    const p = projector(new UnreadProjection());
    p.wake();
    expect(await p.catchUp()).toBe(2);
    expect(await unread('UREADER', 'CWAKE')).toBe(2);
  });

  /**
   * Records every event it is given, in order; `statement`: also in the database (recorded_events),
   * one statement per batch, so what a batch left in the database can be told from what it was given.
   */
  class RecordingProjection implements Projection {
    readonly tables = [] as const;
    readonly batches: string[][] = [];
    constructor(
      readonly name: string,
      private readonly statement = false,
    ) {}
    async apply(db: Queryable, events: readonly GlobalEvent[]) {
      if (this.statement)
        await db.query('INSERT INTO recorded_events (projection, event) SELECT $1, unnest($2::text[])', [
          this.name,
          events.map((e) => `${e.channel}:${e.seq}`),
        ]);
      this.batches.push(events.map((e) => `${e.channel}:${e.seq}`));
    }
  }

  it.each([
    ['a batch that sends no statement (the checkpoint moves alone)', false],
    ['a batch that sends statements (the checkpoint moves in its transaction)', true],
  ])('a checkpoint reset between the read and %s makes the batch read again from the reset', async (_, statement) => {
    const channel = statement ? 'CRESETTX' : 'CRESET';
    await seedChannel(pool, { channel, users: ['UPOSTER'] });
    const recording = new RecordingProjection(`reset-test-${statement}`, statement);
    // The store resets the checkpoint right after the next read, as a rebuild landing in between would.
    let resetOnce = false;
    const racing = Object.create(store) as EventStore;
    racing.readGlobal = async (...args: Parameters<EventStore['readGlobal']>) => {
      const read = await store.readGlobal(...args);
      if (resetOnce && read.length) {
        resetOnce = false;
        await store.storeCheckpoint(pool, recording.name, START);
      }
      return read;
    };
    const p = new Projector(recording, racing, { databaseUrl: db.url, pool, batchSize: 1000, intervalMs: 60_000 });
    projectors.push(p);
    await p.catchUp();
    const everything = recording.batches.flat();
    const before = await store.loadCheckpoint(recording.name);
    // Armed before the post: the post's NOTIFY may wake a pass before catchUp runs one.
    recording.batches.length = 0;
    resetOnce = true;
    await post(channel, 'after the first catch-up');
    await readableGlobally(before, 1);
    await p.catchUp();
    // The batch read from the old checkpoint was dropped after its apply (whose effects outside the
    // database are at-least-once anyway): with statements, they rolled back with the checkpoint
    // moves; without, the checkpoint did not move. Then the log was applied again from the start,
    // once, in order.
    expect(recording.batches.flat()).toEqual([`${channel}:1`, ...everything, `${channel}:1`]);
    if (statement) {
      const { rows } = await pool.query<{ event: string }>('SELECT event FROM recorded_events WHERE projection = $1 ORDER BY id', [
        recording.name,
      ]);
      expect(rows.map((r) => r.event).slice(-everything.length - 1)).toEqual([...everything, `${channel}:1`]);
      expect(rows.map((r) => r.event).filter((e) => e === `${channel}:1`)).toEqual([`${channel}:1`]);
    }
  });

  it('projections run together share each batch; one reset alone replays alone and joins the others at the end of the log', async () => {
    await seedChannel(pool, { channel: 'CGROUP', users: ['UPOSTER'] });
    const a = new RecordingProjection('group-a', true);
    const b = new RecordingProjection('group-b');
    const p = new Projector([a, b], store, { databaseUrl: db.url, pool, batchSize: 1000, intervalMs: 60_000 });
    projectors.push(p);
    await p.catchUp();
    const before = await store.loadCheckpoint('group-a');
    expect(await store.loadCheckpoint('group-b')).toEqual(before);
    a.batches.length = 0;
    b.batches.length = 0;
    for (let i = 0; i < 3; i++) await post('CGROUP', `together ${i}`);
    await readableGlobally(before, 3);
    await p.catchUp();
    expect(a.batches.flat()).toEqual(['CGROUP:1', 'CGROUP:2', 'CGROUP:3']);
    expect(b.batches).toEqual(a.batches); // the same batches: one read for both
    const head = await store.loadCheckpoint('group-a');
    expect(await store.loadCheckpoint('group-b')).toEqual(head);

    // A rebuild resets one of them: it alone gets the log again from the start, once, in order.
    const everything = (await store.readGlobal(START, 100_000)).map((e) => `${e.channel}:${e.seq}`);
    a.batches.length = 0;
    b.batches.length = 0;
    await store.storeCheckpoint(pool, 'group-b', START);
    await p.catchUp();
    expect(a.batches.flat()).toEqual([]);
    expect(b.batches.flat().slice(0, everything.length)).toEqual(everything);
    expect(await store.loadCheckpoint('group-b')).toEqual(await store.loadCheckpoint('group-a'));

    // Back at the same checkpoint, they share batches again.
    a.batches.length = 0;
    b.batches.length = 0;
    const again = await store.loadCheckpoint('group-a');
    await post('CGROUP', 'together again');
    await readableGlobally(again, 1);
    await p.catchUp();
    expect(a.batches.flat()).toContain('CGROUP:4');
    expect(b.batches).toEqual(a.batches);
  });

  it('a group leads only while it holds every member lock', async () => {
    const alone = new Projector(new RecordingProjection('lock-a'), store, {
      databaseUrl: db.url,
      pool,
      batchSize: 1000,
      intervalMs: 60_000,
    });
    projectors.push(alone);
    await alone.runOnce();
    const group = new Projector([new RecordingProjection('lock-b'), new RecordingProjection('lock-a')], store, {
      databaseUrl: db.url,
      pool,
      batchSize: 1000,
      intervalMs: 60_000,
    });
    projectors.push(group);
    await group.runOnce();
    expect([alone.isLeader, group.isLeader]).toEqual([true, false]);
    // The lock it took (lock-b) was given back: a third projector of lock-b alone can lead.
    const other = new Projector(new RecordingProjection('lock-b'), store, {
      databaseUrl: db.url,
      pool,
      batchSize: 1000,
      intervalMs: 60_000,
    });
    projectors.push(other);
    await other.runOnce();
    expect(other.isLeader).toBe(true);
    await other.stop();
    await alone.stop();
    await group.runOnce();
    expect(group.isLeader).toBe(true);
  });

  it('wake-ups within the pass gap are served by one pass', async () => {
    await seedChannel(pool, { channel: 'CBURST', users: ['UPOSTER'] });
    const recording = new RecordingProjection('burst-test');
    const p = new Projector(recording, store, { databaseUrl: db.url, pool, batchSize: 1000, intervalMs: 60_000, gapMs: 3000 });
    projectors.push(p);
    await p.catchUp();
    p.wake(); // starts at once: the last woken pass is long ago
    await p.runOnce(); // after it
    recording.batches.length = 0;
    const before = await store.loadCheckpoint(recording.name);
    for (let i = 0; i < 3; i++) {
      await post('CBURST', `burst ${i}`);
      p.wake(); // each NOTIFY of a burst; the first queues a pass, no sooner than the gap after the last
    }
    await readableGlobally(before, 3);
    const applied = async () => recording.batches.flat().length;
    for (let i = 0; i < 400 && (await applied()) < 3; i++) await new Promise((r) => setTimeout(r, 25));
    expect(recording.batches).toEqual([['CBURST:1', 'CBURST:2', 'CBURST:3']]);
  });

  it('an empty log leaves the checkpoint at the start', async () => {
    const other = await createTestDatabase();
    const otherPool = new pg.Pool({ connectionString: other.url, max: 2 });
    const otherStore = new EventStore(otherPool, loadConfig({ DATABASE_URL: other.url }));
    const p = new Projector(new UnreadProjection(), otherStore, {
      databaseUrl: other.url,
      pool: otherPool,
      batchSize: 10,
      intervalMs: 60_000,
    });
    try {
      expect(await p.catchUp()).toBe(0);
      expect(await otherStore.loadCheckpoint('unread')).toEqual(START);
      expect(await p.lag()).toMatchObject({ events_behind: 0, seconds_behind: 0 });
    } finally {
      await p.stop();
      await otherPool.end();
      await other.drop();
    }
  });
});
