import pg from 'pg';
import { ChatRepository } from '../../src/api/chat/chat.repository.js';
import { loadConfig } from '../../src/config/config.js';
import { EventStore } from '../../src/event-store/event-store.js';
import { parseCursor, START } from '../../src/event-store/events.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { seedChannel } from '../support/fixtures.js';

// The global cursor delivers each channel in seq order even when many writers race for one channel:
// the append lock is taken before the transaction gets its id (a row lock takes it before waiting,
// so without it a later seq could get a smaller transaction id and come first).
describe('global cursor order', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let store: EventStore;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 16 });
    store = new EventStore(pool, loadConfig({ DATABASE_URL: db.url }));
    await seedChannel(pool, { channel: 'CHOT', users: ['UPOSTER'] });
  });
  afterAll(async () => {
    await store.flushHints();
    await pool.end();
    await db.drop();
  });

  it('16 writers racing for one channel: the global stream has it in seq order, each event once', async () => {
    const chat = new ChatRepository(pool, store);
    await Promise.all(
      Array.from({ length: 16 }, async (_, w) => {
        for (let i = 0; i < 25; i++) await chat.postMessage({ workspace: 'TSEED', channel: 'CHOT', user: 'UPOSTER', text: `${w}/${i}` });
      }),
    );
    const seqs: number[] = [];
    let cursor = START;
    // Pages of 37: an event ordered too early would show up in an earlier page than its predecessor.
    // The global cursor shows only transactions older than every open one on the server (other test
    // files run beside this one): an empty page means "not readable yet" until all 400 are in.
    const deadline = Date.now() + 30_000;
    while (seqs.length < 400 && Date.now() < deadline) {
      const page = await store.readGlobal(cursor, 37);
      if (!page.length) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      seqs.push(...page.filter((e) => e.channel === 'CHOT').map((e) => e.seq));
      cursor = parseCursor(page[page.length - 1].cursor)!;
    }
    expect(seqs).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
  });
});
