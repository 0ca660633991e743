import pg from 'pg';
import { ChatRepository } from '../../src/api/chat/chat.repository.js';
import { loadConfig } from '../../src/config/config.js';
import type { Queryable } from '../../src/db/database.js';
import { EventStore } from '../../src/event-store/event-store.js';
import type { GlobalEvent, Projection } from '../../src/projections/projection.js';
import { Projector } from '../../src/projections/projector.js';
import type { TestDatabase } from '../support/databases.js';
import { seedChannel } from '../support/fixtures.js';
import { waitFor } from '../support/wait-for.js';
import { createClusterDatabase, groupOf } from './support/cluster.js';

/** Records every event it is given, in order, with the cursor after it. */
class Recorder implements Projection {
  readonly name = 'recorder';
  readonly tables = [] as const;
  readonly seen: GlobalEvent[] = [];
  async apply(_db: Queryable, events: readonly GlobalEvent[]) {
    this.seen.push(...events);
  }
}

// The global cursor without a global clock: one part per worker, each read below that worker's xmin.
describe('consumers on a Citus cluster', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let store: EventStore;
  const projectors: Projector[] = [];
  /** Channels by the worker group holding them: two per group. */
  const byGroup = new Map<number, string[]>();

  beforeAll(async () => {
    db = await createClusterDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 6 });
    pool.on('error', () => {});
    store = new EventStore(pool, loadConfig({ DATABASE_URL: db.url }));
    for (let i = 0; [...byGroup.values()].filter((c) => c.length >= 2).length < 2; i++) {
      const channel = `CK${i}`;
      const g = await groupOf(pool, channel);
      if ((byGroup.get(g) ?? []).length >= 2) continue;
      await seedChannel(pool, { channel, users: ['UPOSTER', 'UREADER'] });
      byGroup.set(g, [...(byGroup.get(g) ?? []), channel]);
    }
  });
  afterEach(async () => {
    await Promise.all(projectors.splice(0).map((p) => p.stop()));
  });
  afterAll(async () => {
    await store.flushHints();
    await pool.end();
    await db.drop();
  });

  const post = (channel: string, text: string) =>
    new ChatRepository(pool, store).postMessage({ workspace: 'TSEED', channel, user: 'UPOSTER', text });
  const projector = (projection: Projection, batchSize = 7) => {
    const p = new Projector(projection, store, { databaseUrl: db.url, pool, batchSize, intervalMs: 60_000 });
    projectors.push(p);
    return p;
  };
  const logOf = async () =>
    (await pool.query<{ channel_id: string; seq: string }>('SELECT channel_id, seq FROM events ORDER BY channel_id, seq')).rows.map(
      (r) => `${r.channel_id}:${r.seq}`,
    );

  test('a slow writer held open on one worker is not skipped while the other worker writes; nothing is read twice', async () => {
    const [slowGroup, fastGroup] = [...byGroup.keys()];
    const [slowChannel, sameWorker] = byGroup.get(slowGroup)!;
    const [fastChannel] = byGroup.get(fastGroup)!;
    const recorder = new Recorder();
    const p = projector(recorder);
    await p.catchUp();

    // An append transaction on the slow worker, left open (its worker transaction id is taken).
    const slow = new pg.Client({ connectionString: db.url });
    await slow.connect();
    try {
      await slow.query('BEGIN');
      await slow.query(`SELECT * FROM append_event($1, 'channel_topic', 'UPOSTER', '{"topic":"slow"}', NULL)`, [slowChannel]);
      // Both workers go on writing: the other worker's posts, and later transactions on the slow one.
      for (let i = 0; i < 20; i++) {
        await post(fastChannel, `fast ${i}`);
        await post(sameWorker, `same worker ${i}`);
      }
      // The fast worker's part moves on while the slow one is open...
      await waitFor(
        async () => (await p.runOnce(), recorder.seen.filter((e) => e.channel === fastChannel).length === 20),
        60_000,
        'the other worker read past the open transaction',
      );
      // ...and the slow worker's part stops before it: later commits there wait, nothing is skipped.
      expect(recorder.seen.filter((e) => e.channel === slowChannel || e.channel === sameWorker)).toEqual([]);
      await slow.query('COMMIT');
    } finally {
      await slow.end();
    }
    await p.catchUp();
    const seen = recorder.seen.map((e) => `${e.channel}:${e.seq}`);
    expect(new Set(seen).size).toBe(seen.length); // no duplicate
    expect([...seen].sort()).toEqual((await logOf()).sort()); // every event of the log (seeding appends none)
    expect(seen).toContain(`${slowChannel}:1`);
    expect(seen.filter((k) => k.startsWith(`${sameWorker}:`))).toEqual(Array.from({ length: 20 }, (_, i) => `${sameWorker}:${i + 1}`));
    // Every cursor names both workers' parts.
    expect(recorder.seen[recorder.seen.length - 1].cursor).toMatch(/^\d+:\d+-\d+(\.\d+:\d+-\d+)+$/);
  });

  test('a consumer restarted from its checkpoint resumes under fire: every event once, per channel in seq order', async () => {
    const channels = [...byGroup.values()].flat();
    const recorder = new Recorder();
    let first = projector(recorder, 13);
    await first.catchUp();
    const start = recorder.seen.length;
    let writing = true;
    const writer = (async () => {
      for (let i = 0; i < 40; i++) for (const c of channels) await post(c, `fire ${i}`);
      writing = false;
    })();
    // Restart the consumer (a new process) three times while the writes go on.
    for (let r = 0; r < 3 && writing; r++) {
      await first.runOnce();
      await first.stop();
      first = projector(recorder, 13);
    }
    await writer;
    await first.catchUp();
    const fresh = recorder.seen.slice(start);
    const keys = fresh.map((e) => `${e.channel}:${e.seq}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const c of channels) {
      const seqs = fresh.filter((e) => e.channel === c).map((e) => e.seq);
      expect(seqs.length).toBe(40);
      for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(seqs[i - 1] + 1);
    }
  });
});
