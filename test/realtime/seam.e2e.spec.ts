import { TestApp, type TestUser } from '../support/test-app.js';
import { TestClient, describeSeqs, heads, waitFor } from './support.js';

// `sync` issued while appends are in flight: the backlog from the store and the live broadcast meet
// at a seam that must lose and double nothing.
describe('sync at the seam', () => {
  let t: TestApp;
  beforeAll(async () => (t = await TestApp.start()));
  afterAll(() => t.close());

  it('every socket that syncs mid-stream gets exactly cursor+1..head, in order', async () => {
    const ws = await t.newWorkspace();
    const writers = [await t.newUser(ws), await t.newUser(ws), await t.newUser(ws)];
    const readers: TestUser[] = [];
    for (let i = 0; i < 6; i++) readers.push(await t.newUser(ws));
    const channel = await t.newChannel(writers[0], 'seam', false, [...writers.slice(1), ...readers]);

    const posts = 180;
    let sent = 0;
    const writing = Promise.all(
      writers.map(async (w) => {
        while (sent < posts) {
          sent++;
          const res = await t.api('chat.postMessage', w.token, { channel, text: `m${sent}` });
          if (!res.body.ok) throw new Error(JSON.stringify(res.body));
        }
      }),
    );

    // While the writers run, sockets join at different points with different cursors, through the
    // `sync` event and through the handshake; one live socket re-syncs with its own cursor.
    const clients: Array<{ client: TestClient; from: number }> = [];
    const live = await new TestClient(readers[0], t.url).connect({ cursors: { [channel]: 0 } });
    clients.push({ client: live, from: 0 });
    for (let i = 1; i < readers.length; i++) {
      await waitFor(() => sent >= (posts * i) / readers.length, 10_000, 'writers progressing');
      const { rows } = await t.pool.query<{ head_seq: string }>('SELECT head_seq FROM channels WHERE id = $1', [channel]);
      const head = Number(rows[0].head_seq);
      const from = i % 3 === 0 ? head : i % 3 === 1 ? Math.floor(head / 2) : 0;
      const client = new TestClient(readers[i], t.url);
      await client.connect(i % 2 ? { sync: { [channel]: from } } : { cursors: { [channel]: from } });
      clients.push({ client, from });
      const resync = await live.ack('sync', { cursors: { [channel]: live.last(channel) } });
      expect(resync.ok).toBe(true);
    }
    await writing;

    const head = (await heads(t, [channel])).get(channel)!;
    for (const { client } of clients) await waitFor(() => client.last(channel) >= head, 10_000, `${client.user.id} at ${head}`);
    for (const { client, from } of clients) {
      const expected = Array.from({ length: head - from }, (_, i) => from + i + 1);
      const got = client.seqs(channel);
      if (JSON.stringify(got) !== JSON.stringify(expected))
        throw new Error(`from ${from}: expected ${from + 1}..${head}, got ${describeSeqs(got)}`);
      client.disconnect();
    }
  });
});
