import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { rebuildCommand } from '../../src/cli/rebuild-command.js';
import { replayCommand, UsageError } from '../../src/cli/replay-command.js';
import { ChatRepository } from '../../src/api/chat/chat.repository.js';
import { loadConfig } from '../../src/config/config.js';
import { EventStore } from '../../src/event-store/event-store.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { seedChannel } from '../support/fixtures.js';
import { OPERATOR_TOKEN, TestApp, type TestUser } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

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
    for (let i = 0; i < 25; i++)
      await new ChatRepository(pool, store).postMessage({
        workspace: 'TSEED',
        channel: i % 2 ? 'CONE' : 'CTWO',
        user: 'USEED',
        text: `m${i}`,
      });
  });
  afterAll(async () => {
    await store.flushHints();
    await pool.end();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = async (opts: Parameters<typeof replayCommand>[1]) => {
    const out = new PassThrough();
    const err = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (c) => chunks.push(String(c)));
    const result = await replayCommand(config(), opts, out, err);
    return {
      ...result,
      lines: chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
      log: String(err.read() ?? ''),
    };
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

/** The CLI's output, as it would print it (the same entry point as `npm run replay`). */
async function replayOutput(config: ReturnType<typeof loadConfig>, opts: Parameters<typeof replayCommand>[1]): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await replayCommand(config, opts, out, new PassThrough());
  return Buffer.concat(chunks).toString('utf8');
}

// The CLIs are built by the application's container, so EKM bodies open for them as for the API.
describe('the CLIs in an EKM workspace', () => {
  const SECRET = 'the vault code is 0451';
  let t: TestApp;
  let ws: string;
  let ada: TestUser;
  let bob: TestUser;
  let channel: string;

  beforeAll(async () => {
    // No live projector: the rebuild below replays the log itself, through the CLI's own container.
    t = await TestApp.start({ EKM_LOCAL_MASTER_KEY: randomBytes(32).toString('base64'), PROJECTOR_ENABLED: 'false' });
    ws = await t.newWorkspace();
    ada = await t.newUser(ws, 'admin');
    bob = await t.newUser(ws);
    channel = await t.newChannel(ada, 'vault', false, [bob]);
    await t.api('chat.postMessage', ada.token, { channel, text: `before EKM: ${SECRET} <@${bob.id}>` });
    const enabled = await t.admin('POST', `/workspaces/${ws}/ekm`, { provider: 'local' });
    expect(enabled.status).toBe(202);
    const run = `/workspaces/${ws}/ekm/runs/${enabled.body.run.id}`;
    await waitFor(async () => (await t.admin('GET', run)).body.status === 'done', 20_000, 'the encrypt run');
    const posted = await t.api('chat.postMessage', ada.token, { channel, text: `after EKM: ${SECRET} <@${bob.id}>` });
    await t.api('chat.update', ada.token, { channel, ts: posted.body.ts, text: `edited: ${SECRET} <!channel>` });
    await t.api('chat.postMessage', bob.token, { channel, text: `hey <@${ada.id}>` });
    const sealed = await t.pool.query('SELECT count(*)::int AS n FROM messages WHERE channel_id = $1 AND body_enc IS NOT NULL', [channel]);
    expect(sealed.rows[0].n).toBe(3);
  });
  afterAll(() => t.close());

  const httpNdjson = async (path: string) => {
    const res = await fetch(`${t.url}/admin/v1${path}`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } });
    expect(res.status).toBe(200);
    return res.text();
  };

  it('npm run replay prints byte for byte what the HTTP API streams', async () => {
    const http = await httpNdjson(`/channels/${channel}/events`);
    const cli = await replayOutput(t.config, { channel });
    expect(cli).toBe(http);
    expect(cli).toContain(`edited: ${SECRET}`);
    expect(cli).not.toContain('"text":""');

    // The global stream shows transactions older than every open one (cluster-wide): retry until both see all.
    let global = { http: '', cli: '' };
    await waitFor(
      async () => {
        global = { http: await httpNdjson(`/events?workspace=${ws}`), cli: await replayOutput(t.config, { workspace: ws }) };
        return global.http === global.cli && global.cli.includes(`hey <@${ada.id}>`);
      },
      10_000,
      'the global stream through both',
    );
    expect(global.cli).toContain(`before EKM: ${SECRET}`);
  });

  it('npm run rebuild counts the mentions inside sealed bodies', async () => {
    const out = new PassThrough();
    await rebuildCommand(t.config, ['unread'], { batchSize: 2 }, out, new PassThrough());
    expect(String(out.read())).toMatch(/^rebuilt unread: \d+ events/);
    const counts = async (user: TestUser) =>
      (await t.api('client.counts', user.token)).body.channels.find((c: { id: string }) => c.id === channel);
    // bob: named in the first message, and <!channel> in the edited one (his own message is not unread for him).
    expect(await counts(bob)).toMatchObject({ unread_count: 2, mention_count: 2 });
    expect(await counts(ada)).toMatchObject({ unread_count: 1, mention_count: 1 });
  });
});
