import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { ChatRepository } from '../../src/api/chat/chat.repository.js';
import { loadConfig } from '../../src/config/config.js';
import { EventStore } from '../../src/event-store/event-store.js';
import { START, type GlobalCursor } from '../../src/event-store/events.js';
import { EVENTS_NOTIFY_CHANNEL, FanoutHint, parseHint } from '../../src/event-store/fanout-hint.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { seedChannel } from '../support/fixtures.js';

describe('event store', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let store: EventStore;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 20 });
    store = new EventStore(pool, loadConfig({ DATABASE_URL: db.url, NOTIFY_INTERVAL_MS: '2' }));
  });
  afterAll(async () => {
    await store.flushHints();
    await pool.end();
    await db.drop();
  });

  const post = (channel: string, text: string, extra: { clientMsgId?: string; user?: string } = {}) =>
    new ChatRepository(pool, store).postMessage({
      workspace: 'TSEED',
      channel,
      user: extra.user ?? 'USEED',
      text,
      clientMsgId: extra.clientMsgId,
    });

  const seqs = async (channel: string) =>
    (await pool.query<{ seq: string; ts: string }>('SELECT seq, ts FROM events WHERE channel_id = $1 ORDER BY seq', [channel])).rows;

  it('a transaction that fails after taking a seq leaves no gap', async () => {
    const { channel } = await seedChannel(pool, { channel: 'CROLLBACK' });
    await post(channel, 'one');
    await expect(
      store.transaction(async (tx) => {
        await tx.lockChannel(channel, 'TSEED');
        await tx.append(channel, 'channel_archive', 'USEED');
        throw new Error('fails after taking seq 2');
      }),
    ).rejects.toThrow('fails after taking seq 2');
    const client = await pool.connect();
    await client.query('BEGIN');
    await client.query(`SELECT * FROM post_message('TSEED', $1, 'USEED', 'rolled back', NULL, false, NULL)`, [channel]);
    await client.query('ROLLBACK');
    client.release();
    await post(channel, 'two');
    expect((await seqs(channel)).map((r) => Number(r.seq))).toEqual([1, 2]);
    expect((await store.readChannel(channel, 0, 10)).map((e) => e.type === 'message' && e.text)).toEqual(['one', 'two']);
  });

  it('the database refuses UPDATE, DELETE and TRUNCATE on events', async () => {
    const { channel } = await seedChannel(pool, { channel: 'CAPPENDONLY' });
    await post(channel, 'kept');
    await expect(pool.query(`UPDATE events SET type = 'x' WHERE channel_id = $1`, [channel])).rejects.toThrow(/append-only: UPDATE/);
    await expect(pool.query('DELETE FROM events WHERE channel_id = $1', [channel])).rejects.toThrow(/append-only: DELETE/);
    await expect(pool.query('TRUNCATE events')).rejects.toThrow(/append-only: TRUNCATE/);
    expect(await seqs(channel)).toHaveLength(1);
  });

  it('the same client_msg_id sent 10 times concurrently writes one event and answers one ts', async () => {
    const { channel } = await seedChannel(pool, { channel: 'CIDEMPOTENT' });
    const id = randomUUID();
    const results = await Promise.all(Array.from({ length: 10 }, () => post(channel, 'once', { clientMsgId: id })));
    expect(new Set(results.map((r) => r.ts)).size).toBe(1);
    expect(new Set(results.map((r) => r.seq))).toEqual(new Set([1]));
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(await seqs(channel)).toHaveLength(1);
    expect((await pool.query('SELECT count(*)::int AS n FROM messages WHERE channel_id = $1', [channel])).rows[0].n).toBe(1);
  });

  it('refuses posts to unknown, archived, private or non-member channels without writing', async () => {
    await seedChannel(pool, { channel: 'CPRIV', isPrivate: true, users: ['UOWNER'] });
    await seedChannel(pool, { channel: 'CPUB', users: ['UOWNER'] });
    await expect(post('CNOPE', 'x')).rejects.toMatchObject({ code: 'channel_not_found' });
    await expect(post('CPRIV', 'x')).rejects.toMatchObject({ code: 'channel_not_found' });
    await expect(post('CPUB', 'x')).rejects.toMatchObject({ code: 'not_in_channel' });
    await pool.query(`UPDATE channels SET is_archived = true WHERE id = 'CPUB'`);
    await expect(post('CPUB', 'x', { user: 'UOWNER' })).rejects.toMatchObject({ code: 'is_archived' });
    expect(await seqs('CPRIV')).toHaveLength(0);
    expect(await seqs('CPUB')).toHaveLength(0);
  });

  it('ts is Slack-shaped, unique and strictly increasing with seq', async () => {
    const { channel } = await seedChannel(pool, { channel: 'CTS' });
    for (let i = 0; i < 50; i++) await post(channel, `m${i}`);
    const events = await store.readChannel(channel, 0, 100);
    expect(events.every((e) => /^\d{10}\.\d{6}$/.test(e.ts))).toBe(true);
    for (let i = 1; i < events.length; i++) {
      expect(events[i].seq).toBe(events[i - 1].seq + 1);
      expect(Number(events[i].ts.replace('.', ''))).toBeGreaterThan(Number(events[i - 1].ts.replace('.', '')));
    }
  });

  it('a global-cursor reader skips nothing while an earlier append transaction is still open', async () => {
    await seedChannel(pool, { channel: 'CSLOW' });
    await seedChannel(pool, { channel: 'CFAST' });
    let cursor: GlobalCursor = await lastCursor();
    const seen: string[] = [];
    const readAll = async () => {
      for (;;) {
        const page = await store.readGlobal(cursor, 100);
        if (!page.length) return;
        for (const e of page) seen.push(`${e.channel}:${e.seq}`);
        const [txId, position] = page[page.length - 1].cursor.split('-');
        cursor = { txId, position };
      }
    };

    // The slow writer takes its position first but commits last.
    const slow = await pool.connect();
    await slow.query('BEGIN');
    await slow.query(`SELECT * FROM append_event('CSLOW', 'channel_archive', 'USEED', '{}', NULL)`);
    for (let i = 0; i < 5; i++) await post('CFAST', `fast ${i}`);
    await readAll();
    expect(seen).toEqual([]); // nothing past the open transaction is handed out yet
    await slow.query('COMMIT');
    slow.release();
    await post('CFAST', 'after');
    // xmin is cluster-wide: a transaction of another test file may hold the reader back for a moment.
    for (const deadline = Date.now() + 30_000; seen.length < 7 && Date.now() < deadline;) {
      await readAll();
      await new Promise((r) => setTimeout(r, 20));
    }
    expect([...seen].sort()).toEqual(['CFAST:1', 'CFAST:2', 'CFAST:3', 'CFAST:4', 'CFAST:5', 'CFAST:6', 'CSLOW:1'].sort());
    expect(seen).toHaveLength(new Set(seen).size);
  });

  it('checkpoints round-trip and start at the beginning', async () => {
    expect(await store.loadCheckpoint('nobody')).toEqual(START);
    await store.storeCheckpoint(pool, 'projector', { txId: '1234', position: '56' });
    await store.storeCheckpoint(pool, 'projector', { txId: '1235', position: '57' });
    expect(await store.loadCheckpoint('projector')).toEqual({ txId: '1235', position: '57' });
  });

  it('hints reach listeners after commit, carrying the latest seq of the channel', async () => {
    const { channel } = await seedChannel(pool, { channel: 'CHINT' });
    const listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    const payloads: string[] = [];
    listener.on('notification', (n) => payloads.push(n.payload ?? ''));
    await listener.query(`LISTEN ${EVENTS_NOTIFY_CHANNEL}`);
    await Promise.all(Array.from({ length: 20 }, (_, i) => post(channel, `burst ${i}`)));
    await store.flushHints();
    for (const deadline = Date.now() + 10_000; !payloads.join(',').includes(`${channel}:20`) && Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await listener.end();
    expect(payloads.join(',')).toContain(`${channel}:20`);
  });

  it('coalesces many hints into one NOTIFY per flush, keeping the highest seq per channel', async () => {
    const listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    const payloads: string[] = [];
    listener.on('notification', (n) => payloads.push(n.payload ?? ''));
    await listener.query(`LISTEN ${EVENTS_NOTIFY_CHANNEL}`);
    const hint = new FanoutHint(pool, 60_000); // the timer never fires: only the explicit flush sends
    for (let seq = 1; seq <= 100; seq++) for (const channel of ['CA', 'CB', 'CC']) hint.note(channel, seq);
    hint.note('CA', 7); // an older seq never lowers the hint
    await hint.flush();
    for (const deadline = Date.now() + 10_000; !payloads.length && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 10));
    await listener.end();
    expect(payloads).toEqual(['CA:100,CB:100,CC:100']);
    expect(parseHint(payloads[0])).toEqual([
      { channel: 'CA', seq: 100 },
      { channel: 'CB', seq: 100 },
      { channel: 'CC', seq: 100 },
    ]);
  });

  async function lastCursor(): Promise<GlobalCursor> {
    const { rows } = await pool.query<{ tx_id: string; position: string }>(
      'SELECT tx_id::text, position FROM events ORDER BY tx_id DESC, position DESC LIMIT 1',
    );
    return rows[0] ? { txId: rows[0].tx_id, position: rows[0].position } : START;
  }
});
