import { randomBytes } from 'node:crypto';
import { EventStore } from '../../src/event-store/event-store.js';
import { Relay } from '../../src/realtime/relay.js';
import { TestApp, type TestUser } from '../support/test-app.js';
import { TestClient, expectComplete, heads, waitFor } from './support.js';

// The relay keeps one stream read in flight and reads every channel hinted meanwhile in the next one
// statement: under load the reads merge instead of queueing one per post. What it reads must be
// exactly what the per-channel read gives (EKM bodies decrypted included), and delivery stays
// exactly-once and in order.
describe('relay batch reads', () => {
  let t: TestApp;
  let ws: string;
  let owner: TestUser;
  let member: TestUser;
  const channels: string[] = [];

  beforeAll(async () => {
    t = await TestApp.start({ EKM_LOCAL_MASTER_KEY: randomBytes(32).toString('base64') });
    ws = await t.newWorkspace();
    owner = await t.newUser(ws, 'admin');
    member = await t.newUser(ws);
    for (let i = 0; i < 12; i++) channels.push(await t.newChannel(owner, `batch-${i}`, i % 3 === 0, [member]));
  });
  afterAll(() => t.close());

  /** Holds the relay's next stream read until released; counts the stream reads meanwhile. */
  const holdNextRead = () => {
    const relay = t.app.get(Relay);
    const query = relay.reads.query.bind(relay.reads) as (...args: unknown[]) => Promise<unknown>;
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    const gate = {
      reads: 0,
      held: false,
      release: () => open(),
      restore: () => {
        open();
        relay.reads.query = query as typeof relay.reads.query;
      },
    };
    relay.reads.query = (async (...args: unknown[]) => {
      const text = String(typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string }).text);
      if (text.includes('FROM events e')) {
        gate.reads++;
        if (!gate.held) {
          gate.held = true;
          await opened;
        }
      }
      return query(...args);
    }) as typeof relay.reads.query;
    return gate;
  };

  const post = async (channel: string, text: string) => {
    const res = await t.api('chat.postMessage', owner.token, { channel, text });
    expect(res.body.ok).toBe(true);
    return res.body.ts as string;
  };

  it('reads many channels in one statement, event for event what readChannel reads (EKM on)', async () => {
    const enabled = await t.admin('POST', `/workspaces/${ws}/ekm`, { provider: 'local' });
    expect(enabled.status).toBe(202);
    await waitFor(
      async () => (await t.admin('GET', `/workspaces/${ws}/ekm/runs/${enabled.body.run.id}`)).body.status === 'done',
      20_000,
      'EKM on',
    );
    for (const [i, channel] of channels.entries()) {
      const ts = await post(channel, `plain ${i}`);
      await t.api('chat.update', owner.token, { channel, ts, text: `edited ${i}` });
      if (i % 2) await t.api('chat.delete', owner.token, { channel, ts: await post(channel, `gone ${i}`) });
    }
    const store = t.app.get(EventStore);
    const from = channels.map((channel, i) => ({ channel, afterSeq: i % 4 }));
    const batched = await store.readChannels(from, 3);
    expect([...batched.keys()]).toEqual(channels);
    for (const { channel, afterSeq } of from) {
      const single = await store.readChannel(channel, afterSeq, 3);
      expect(single.length).toBeGreaterThan(0);
      expect(batched.get(channel)).toEqual(single);
    }
    expect(JSON.stringify([...batched.values()])).toContain('edited 5');
  });

  it('posts made while a read is in flight are read together, and every socket still gets 1..N once', async () => {
    const client = await new TestClient(member, t.url).connect({ cursors: Object.fromEntries(channels.map((c) => [c, 0])) });
    await waitFor(async () => channels.every((c) => client.last(c) > 0), 10_000, 'backlog read');

    const gate = holdNextRead();
    try {
      await post(channels[0], 'first');
      await waitFor(() => gate.held, 5_000, 'the first read held');
      await Promise.all(channels.map((c, i) => post(c, `during ${i}`)));
      gate.release();
      const head = await heads(t, channels);
      await waitFor(() => channels.every((c) => client.last(c) === head.get(c)), 10_000, 'delivered');
      // One held read for the first post, one for the twelve channels posted to meanwhile.
      expect(gate.reads).toBe(2);
      expectComplete(client, head);
    } finally {
      gate.restore();
      client.disconnect();
    }
  });

  it('a batch of 100 channels far behind reads 20 events of each at a time, and every socket still gets 1..N once', async () => {
    // A workspace without EKM: post_message() writes plaintext bodies only there.
    const plain = await t.newWorkspace('Plain');
    const writer = await t.newUser(plain, 'admin');
    const reader = await t.newUser(plain);
    const many: string[] = [];
    for (let i = 0; i < 101; i++) many.push(await t.newChannel(writer, `wide-${i}`, false, [reader]));
    const client = await new TestClient(reader, t.url).connect({ cursors: Object.fromEntries(many.map((c) => [c, 0])) });
    await waitFor(async () => many.every((c) => client.last(c) > 0), 20_000, 'backlog read');
    const gate = holdNextRead();
    try {
      expect((await t.api('chat.postMessage', writer.token, { channel: many[0], text: 'first' })).body.ok).toBe(true);
      await waitFor(() => gate.held, 5_000, 'the first read held');
      // 45 events in every channel behind the relay's back (no hint), then one hint each, as a
      // reconnected listener's catch-up gives them.
      await t.pool.query(
        `SELECT post_message($1, c, $2, 'bulk ' || i, NULL, false, NULL) FROM unnest($3::text[]) c, generate_series(1, 45) i`,
        [plain, writer.id, many],
      );
      const head = await heads(t, many);
      const relay = t.app.get(Relay);
      for (const c of many) relay.hint(c, head.get(c)!);
      gate.release();
      await waitFor(() => many.every((c) => client.last(c) === head.get(c)), 20_000, 'delivered');
      // The held read; then 100 channels x 20, x 20 and x 5 (plus the 101st channel's 46 in one),
      // then the empty probes after the full pages.
      expect(gate.reads).toBeGreaterThanOrEqual(4);
      expectComplete(client, head);
    } finally {
      gate.restore();
      client.disconnect();
    }
  });
});
