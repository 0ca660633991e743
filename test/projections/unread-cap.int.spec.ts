import pg from 'pg';
import { ChatRepository } from '../../src/api/chat/chat.repository.js';
import { loadConfig } from '../../src/config/config.js';
import { EventStore } from '../../src/event-store/event-store.js';
import { Projector } from '../../src/projections/projector.js';
import { UnreadCountsRepository } from '../../src/projections/unread/unread-counts.repository.js';
import { UnreadProjection } from '../../src/projections/unread/unread.projection.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { seedChannel } from '../support/fixtures.js';

// The bounded path of the counts query: past the scan cap, unread stops at the cap while mentions
// and the newest ts stay exact (the display cap is 1,000; a cap of 3 exercises the same SQL).
describe('unread counts past the display cap', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let store: EventStore;
  let projector: Projector;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    store = new EventStore(pool, loadConfig({ DATABASE_URL: db.url }));
    projector = new Projector(new UnreadProjection(), store, { databaseUrl: db.url, pool, batchSize: 100, intervalMs: 60_000 });
  });
  afterAll(async () => {
    await projector.stop();
    await store.flushHints();
    await pool.end();
    await db.drop();
  });

  it('caps unread, counts every mention, and reports the newest message', async () => {
    await seedChannel(pool, { channel: 'CCAP', users: ['UPOSTER', 'UREADER'] });
    const texts = ['<@UREADER> first', 'two', 'three', '<!here> four', 'five', '<@UOTHER> six', '<!channel> seven'];
    const posted = [];
    for (const text of texts)
      posted.push(await new ChatRepository(pool, store).postMessage({ workspace: 'TSEED', channel: 'CCAP', user: 'UPOSTER', text }));
    await projector.catchUp();
    const counts = new UnreadCountsRepository(pool);

    const capped = await counts.forChannel('UREADER', 'CCAP', 3);
    expect(capped).toMatchObject({ unread: 3, mentions: 3, latest: posted[6].ts, headSeq: 7 });
    expect(await counts.forChannel('UREADER', 'CCAP')).toMatchObject({ unread: 7, mentions: 3, latest: posted[6].ts });

    await pool.query(`UPDATE channel_members SET last_read = $1 WHERE channel_id = 'CCAP' AND user_id = 'UREADER'`, [posted[6].ts]);
    expect(await counts.forChannel('UREADER', 'CCAP', 3)).toMatchObject({
      unread: 0,
      mentions: 0,
      latest: posted[6].ts,
      lastRead: posted[6].ts,
    });
    expect(await counts.forChannel('UPOSTER', 'CCAP', 3)).toMatchObject({ unread: 0, mentions: 0, latest: posted[6].ts });
    expect(await counts.forChannel('UNOBODY', 'CCAP')).toBeUndefined();
  });
});
