import pg from 'pg';
import { EVENTS_NOTIFY_CHANNEL, FanoutHint, parseHint } from '../../src/event-store/fanout-hint.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { waitFor } from '../support/wait-for.js';

// One NOTIFY round in flight at a time: hints noted while it is out go together in the next round,
// rather than one pg_notify per interval queueing behind it.
describe('fanout hints under load', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let listener: pg.Client;
  const heard: Array<{ channel: string; seq: number }> = [];

  beforeAll(async () => {
    db = await createTestDatabase({ empty: true });
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    listener.on('notification', (n) => heard.push(...parseHint(n.payload ?? '')));
    await listener.query(`LISTEN ${EVENTS_NOTIFY_CHANNEL}`);
  });
  afterAll(async () => {
    await listener.end();
    await pool.end();
    await db.drop();
  });

  it('hints noted during a NOTIFY round go out whole in the next one, the newest seq per channel', async () => {
    const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let notifies = 0;
    pool.query = (async (...args: unknown[]) => {
      if (String(args[0]).includes('pg_notify') && notifies++ === 0) await gate;
      return query(...args);
    }) as typeof pool.query;
    const local: string[] = [];
    const hint = new FanoutHint(pool, 1);
    hint.onNote((channel, seq) => local.push(`${channel}:${seq}`));

    hint.note('CFIRST', 1);
    await waitFor(() => notifies === 1, 5_000, 'the first round out');
    for (let seq = 1; seq <= 5; seq++) {
      for (let c = 0; c < 40; c++) hint.note(`C${c}`, seq);
      await new Promise((r) => setTimeout(r, 5)); // several intervals pass while the round is out
    }
    expect(notifies).toBe(1);
    release();
    await waitFor(() => heard.length === 41, 5_000, 'every channel heard');
    await hint.flush();
    expect(notifies).toBe(2);
    expect(heard).toEqual([{ channel: 'CFIRST', seq: 1 }, ...Array.from({ length: 40 }, (_, c) => ({ channel: `C${c}`, seq: 5 }))]);
    // This node's relay is told of every commit at once, NOTIFY or not.
    expect(local).toHaveLength(201);
  });
});
