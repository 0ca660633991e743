import pg from 'pg';
import { ChatRepository } from '../../src/api/chat/chat.repository.js';
import { loadConfig } from '../../src/config/config.js';
import { EventStore } from '../../src/event-store/event-store.js';
import { type NotifyMessage, NotifyRepository } from '../../src/jobs/notify/notify.repository.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { seedChannel } from '../support/fixtures.js';

// The notify consumer decides a whole batch in one statement: each message must get what it would
// get alone, whatever else is in the batch (other channels, mentions, threads, DMs, `all` levels).
describe('notify recipients of a batch', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let repo: NotifyRepository;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    repo = new NotifyRepository(pool);
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  it('gives each message of a batch the recipients it gets alone, in one statement', async () => {
    const users = ['UA', 'UB', 'UC', 'UD'];
    await seedChannel(pool, { channel: 'CONE', users });
    await seedChannel(pool, { channel: 'CTWO', users });
    await seedChannel(pool, { channel: 'DPAIR', users: ['UA', 'UB'] });
    await pool.query(`UPDATE channels SET kind = 'im' WHERE id = 'DPAIR'`);
    for (const u of users)
      await pool.query('INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth) VALUES ($1, $2, $3, $4)', [
        u,
        `https://push.invalid/${u}`,
        'key',
        'auth',
      ]);
    // UD hears everything in CTWO (channel level), UC everything everywhere (workspace level) but CONE is muted for UC.
    await pool.query(`INSERT INTO notify_prefs (user_id, channel_id, level) VALUES ('UD', 'CTWO', 'all'), ('UC', '', 'all')`);
    await pool.query(`INSERT INTO notify_prefs (user_id, channel_id, level, muted) VALUES ('UC', 'CONE', NULL, true)`);
    const store = new EventStore(pool, loadConfig({ DATABASE_URL: db.url }));
    const chat = new ChatRepository(pool, store);
    const parent = await chat.postMessage({ workspace: 'TSEED', channel: 'CTWO', user: 'UB', text: 'a thread' });
    await store.flushHints();

    const batch: NotifyMessage[] = [
      { channel: 'CONE', author: 'UA', mentioned: ['UB'], everyone: false, here: false },
      { channel: 'CTWO', author: 'UA', mentioned: [], everyone: false, here: false },
      { channel: 'DPAIR', author: 'UA', mentioned: [], everyone: false, here: false },
      { channel: 'CTWO', author: 'UA', mentioned: [], everyone: false, here: false, parent: BigInt(parent.ts) },
      { channel: 'CONE', author: 'UB', mentioned: [], everyone: true, here: false },
    ];
    const told = (r: Array<{ user: string }>) => r.map((x) => x.user).sort();
    const alone = [];
    for (const m of batch) alone.push(told((await repo.recipients(pool, [m]))[0]));
    expect(alone).toEqual([
      ['UB'], // a mention
      ['UC', 'UD'], // top level: the `all` levels (workspace and channel)
      ['UB'], // a DM addresses every member
      ['UB'], // a reply: the thread's participants (not the `all` levels: not top level)
      ['UA', 'UD'], // <!channel>: every member but the author and the muted one
    ]);
    expect((await repo.recipients(pool, batch)).map(told)).toEqual(alone);
  });
});
