import { randomUUID } from 'node:crypto';
import { TestApp, type TestUser } from '../support/test-app.js';
import { TestClient, expectComplete, heads, pause, prng, waitFor } from './support.js';

// Resume under fire: clients drop and come back while several writers post over REST and sockets.
// At the end every client holds exactly seq 1..head of each of its channels, in order, once.
describe('resume under fire', () => {
  let t: TestApp;
  beforeAll(async () => (t = await TestApp.start()));
  afterAll(() => t.close());

  it('20 clients in 5 channels end with every event exactly once', async () => {
    const random = prng(20261126);
    const ws = await t.newWorkspace();
    const owner = await t.newUser(ws);
    const users: TestUser[] = [];
    for (let i = 0; i < 20; i++) users.push(await t.newUser(ws));
    // Channel k holds the users with i % 5 in {k, k+1, k+2}: three channels per client, 12 members each.
    const channels: string[] = [];
    const membersOf = new Map<string, TestUser[]>();
    for (let k = 0; k < 5; k++) {
      const members = users.filter((_, i) => [k, (k + 1) % 5, (k + 2) % 5].includes(i % 5));
      const channel = await t.newChannel(owner, `fire-${k}`, k % 2 === 1, members);
      channels.push(channel);
      membersOf.set(channel, members);
    }
    const channelsOf = (u: TestUser) => channels.filter((c) => membersOf.get(c)!.includes(u));
    const clients = users.map((u) => new TestClient(u, t.url));
    for (const c of clients) await c.connect({ cursors: Object.fromEntries(channelsOf(c.user).map((ch) => [ch, 0])) });

    let writing = true;
    const restWriter = async (poster: TestUser, count: number) => {
      for (let i = 0; i < count; i++) {
        const channel = channels[Math.floor(random() * channels.length)];
        const who = membersOf.get(channel)!.includes(poster) ? poster : owner;
        const res = await t.api('chat.postMessage', who.token, { channel, text: `rest ${i}` });
        if (!res.body.ok) throw new Error(JSON.stringify(res.body));
      }
    };
    const socketWriter = async (count: number) => {
      for (let i = 0; i < count; i++) {
        const client = clients[Math.floor(random() * clients.length)];
        const socket = client.socket;
        if (!socket?.connected) continue;
        const mine = channelsOf(client.user);
        const channel = mine[Math.floor(random() * mine.length)];
        // An ack can be lost with a dropped connection; the store is the truth at the end.
        await socket
          .timeout(2000)
          .emitWithAck('post', { channel, text: `socket ${i}`, client_msg_id: randomUUID() })
          .catch(() => undefined);
      }
    };
    const churn = async () => {
      let n = 0;
      while (writing) {
        const client = clients[Math.floor(random() * clients.length)];
        client.disconnect();
        await pause(Math.floor(random() * 15));
        // Half come back with cursors in the handshake, half with an explicit `sync`.
        await client.connect(n++ % 2 ? { cursors: client.cursors() } : { sync: client.cursors() });
      }
      return n;
    };

    const churning = churn();
    await Promise.all([restWriter(owner, 60), restWriter(users[0], 60), restWriter(users[7], 60), socketWriter(90)]);
    writing = false;
    const reconnects = await churning;
    expect(reconnects).toBeGreaterThan(5);

    const head = await heads(t, channels);
    for (const c of clients) {
      await waitFor(() => channelsOf(c.user).every((ch) => c.last(ch) >= head.get(ch)!), 15_000, `${c.user.id} caught up`);
    }
    for (const c of clients) {
      expectComplete(c, new Map(channelsOf(c.user).map((ch) => [ch, head.get(ch)!])));
      // and nothing of a channel it is not in
      expect([...c.log.keys()].sort()).toEqual(channelsOf(c.user).sort());
      c.disconnect();
    }
  });
});
