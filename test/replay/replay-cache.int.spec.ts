import pg from 'pg';
import { loadConfig } from '../../src/config/config.js';
import { ChatRepository } from '../../src/api/chat/chat.repository.js';
import { EventStore } from '../../src/event-store/event-store.js';
import { START } from '../../src/event-store/events.js';
import { ReplayRepository } from '../../src/replay/replay.repository.js';
import { ReplayService } from '../../src/replay/replay.service.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { seedChannel } from '../support/fixtures.js';
import { waitFor } from '../support/wait-for.js';

// A workspace replay looks up each channel's workspace in a bounded cache: with more channels than
// the bound, no event may be skipped (it once was, for channels known before the cache was cleared).
describe('workspace replay over more channels than the lookup cache holds', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let store: EventStore;
  const posted: string[] = [];
  const channels = Array.from({ length: 25 }, (_, i) => `CMANY${String(i).padStart(2, '0')}`);

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    store = new EventStore(pool, loadConfig({ DATABASE_URL: db.url }));
    for (const channel of channels) await seedChannel(pool, { channel });
    // Pages of 10: the second page mixes five channels of the first page with five new ones, which
    // overflows a cache of 12 entries.
    for (const i of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24]) {
      await new ChatRepository(pool, store).postMessage({ workspace: 'TSEED', channel: channels[i], user: 'USEED', text: `m` });
      posted.push(channels[i]);
    }
    // The global cursor shows only transactions older than every open one in the cluster.
    await waitFor(async () => (await store.readGlobal(START, 30)).length === 30, 10_000, 'the events to be readable');
  });
  afterAll(async () => {
    await store.flushHints();
    await pool.end();
    await db.drop();
  });

  it('streams every event', async () => {
    const replay = new ReplayService(store, new ReplayRepository(pool), { workspaceCacheSize: 12 });
    const got: string[] = [];
    for await (const page of replay.global(START, { workspace: 'TSEED', pageSize: 10 }))
      for (const e of lines(page.ndjson)) got.push(e.channel);
    expect(got).toEqual(posted);
  });
});

const lines = (ndjson: string): Array<{ channel: string }> =>
  ndjson
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
