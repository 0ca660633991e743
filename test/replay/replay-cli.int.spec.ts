import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import pg from 'pg';
import { runReplay, UsageError } from '../../src/cli/replay-command.js';
import { ChatRepository } from '../../src/api/chat/chat.repository.js';
import { loadConfig } from '../../src/config/config.js';
import { EventStore } from '../../src/event-store/event-store.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { seedChannel } from '../support/fixtures.js';

// The replay command's engine: NDJSON out, filters, and a cursor file that makes runs resumable.
describe('npm run replay', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let store: EventStore;
  let dir: string;
  const config = () => loadConfig({ DATABASE_URL: db.url });

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    store = new EventStore(pool, config());
    dir = mkdtempSync(join(tmpdir(), 'atomcast-replay-'));
    await seedChannel(pool, { channel: 'CONE' });
    await seedChannel(pool, { channel: 'CTWO' });
    for (let i = 0; i < 25; i++) await new ChatRepository(pool, store).postMessage({ workspace: 'TSEED', channel: i % 2 ? 'CONE' : 'CTWO', user: 'USEED', text: `m${i}` });
  });
  afterAll(async () => {
    await store.flushHints();
    await pool.end();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = async (opts: Parameters<typeof runReplay>[2]) => {
    const out = new PassThrough();
    const err = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (c) => chunks.push(String(c)));
    const result = await runReplay(pool, config(), opts, out, err);
    return { ...result, lines: chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l)), log: String(err.read() ?? '') };
  };

  it('a run stopped by --limit resumes from its cursor file where it stopped, without gap or repeat', async () => {
    const cursorFile = join(dir, 'global.cursor');
    // The global stream shows transactions older than every open one (cluster-wide): wait for it.
    let whole = await run({});
    for (let i = 0; i < 100 && whole.lines.length < 25; i++) {
      await new Promise((r) => setTimeout(r, 50));
      whole = await run({});
    }
    expect(whole.lines).toHaveLength(25);
    const first = await run({ cursorFile, limit: 10 });
    expect(readFileSync(cursorFile, 'utf8').trim()).toBe(first.lines[9].cursor);
    const second = await run({ cursorFile, limit: 10 });
    const third = await run({ cursorFile });
    expect([...first.lines, ...second.lines, ...third.lines]).toEqual(whole.lines);
    expect(third.log).toContain(`resume with --after ${whole.lines[24].cursor}`);
    expect((await run({ cursorFile })).lines).toEqual([]);
  });

  it('one channel in seq order, resumable by seq, with type and time filters', async () => {
    const all = await run({ channel: 'CONE' });
    expect(all.lines.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect((await run({ channel: 'CONE', after: '4', limit: 2 })).lines.map((e) => e.seq)).toEqual([5, 6]);
    const window = await run({ channel: 'CONE', since: all.lines[2].ts, until: all.lines[4].ts });
    expect(window.lines.map((e) => e.seq)).toEqual([3, 4, 5]);
    expect((await run({ channel: 'CONE', types: 'message_deleted' })).lines).toEqual([]);
    expect((await run({ workspace: 'TNOPE' })).lines).toEqual([]);
  });

  it('refuses a malformed position or time', async () => {
    await expect(run({ after: 'yesterday' })).rejects.toBeInstanceOf(UsageError);
    await expect(run({ channel: 'CONE', after: '1-2' })).rejects.toBeInstanceOf(UsageError);
    await expect(run({ since: 'not a time' })).rejects.toBeInstanceOf(UsageError);
  });
});
