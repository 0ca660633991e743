import type { Socket as NetSocket } from 'node:net';
import { startTwoNodes, type TwoNodes } from '../support/nodes.js';
import { TestApp, type TestUser } from '../support/test-app.js';
import { TestClient, expectComplete, heads, waitFor } from './support.js';

// Nodes share only the database: each LISTENs once and serves its own sockets.
describe('two nodes over one database', () => {
  let nodes: TwoNodes;
  let n1: TestApp;
  let n2: TestApp;
  const n2Connections = new Set<NetSocket>();
  let n2Closing: Promise<unknown> | undefined;
  beforeAll(async () => {
    ({ n1, n2 } = nodes = await startTwoNodes({ PRESENCE_HEARTBEAT_MS: '1000', PRESENCE_AWAY_DELAY_MS: '50' }));
    n2.app.getHttpServer().on('connection', (s: NetSocket) => n2Connections.add(s));
  });
  afterAll(async () => {
    // A test closes node 2 itself (n2Closing).
    await n1.close();
    await (n2Closing ?? n2.close().catch(() => undefined));
    await nodes.db.drop();
  });

  it('typing crosses nodes: a viewer on node 2 sees who types on node 1, and the typist sees no echo', async () => {
    const ws = await n1.newWorkspace();
    const [ada, bob] = [await n1.newUser(ws), await n1.newUser(ws)];
    const channel = await n1.newChannel(ada, 'typing-nodes', false, [bob]);
    const typist = await new TestClient(ada, n1.url).connect();
    const viewer = await new TestClient(bob, n2.url).connect();
    try {
      expect(await viewer.ack('view', { channel })).toEqual({ ok: true });
      expect(await typist.ack('view', { channel })).toEqual({ ok: true });
      expect(await typist.ack('typing', { channel })).toEqual({ ok: true, sent: true });
      await waitFor(() => viewer.typing.length > 0, 10_000, 'typing on node 2');
      expect(viewer.typing).toEqual([{ channel, user: ada.id }]);
      expect(typist.typing).toEqual([]);
    } finally {
      typist.disconnect();
      viewer.disconnect();
    }
  });

  it('delivers across nodes, and clients of a killed node resume on the other with nothing missed or doubled', async () => {
    const ws = await n1.newWorkspace();
    const owner = await n1.newUser(ws);
    const users: TestUser[] = [];
    for (let i = 0; i < 6; i++) users.push(await n1.newUser(ws));
    const channels = [await n1.newChannel(owner, 'nodes-a', false, users), await n1.newChannel(owner, 'nodes-b', true, users)];
    const from0 = Object.fromEntries(channels.map((c) => [c, 0]));
    // Half the clients on each node.
    const clients = await Promise.all(users.map((u, i) => new TestClient(u, (i % 2 ? n2 : n1).url).connect({ cursors: from0 })));
    // Presence across nodes: zed is only ever on node 2; a client on node 1 watches him.
    const zed = await n1.newUser(ws, 'member', 'zed');
    const watcher = clients[0];
    expect(watcher.url).toBe(n1.url);
    await watcher.ack('presence.subscribe', { users: [zed.id] });
    const z = await new TestClient(zed, n2.url).connect();
    await waitFor(() => watcher.presence.length === 1, 10_000, 'zed active, seen from node 1');
    expect(watcher.presence).toEqual([{ user: zed.id, presence: 'active' }]);

    // Cross-node: posted through node 1 (REST) and node 2 (socket), seen everywhere.
    const viaN1 = await n1.api('chat.postMessage', owner.token, { channel: channels[0], text: 'via node 1' });
    const viaN2 = await clients[1].ack('post', { channel: channels[1], text: 'via node 2' });
    expect(viaN2.ok).toBe(true);
    for (const c of clients) {
      await waitFor(
        () => c.seqs(channels[0]).includes(viaN1.body.seq) && c.seqs(channels[1]).includes(viaN2.seq as number),
        10_000,
        'cross-node',
      );
    }

    // Traffic through both nodes; node 2 dies abruptly in the middle (its TCP connections are cut,
    // no goodbye to the clients), and its clients come back on node 1 with their cursors.
    let sent = 0;
    const writer = async (t: TestApp) => {
      while (sent < 80) {
        sent++;
        // A writer on the dead node stops at its first failure.
        if (!(await t.api('chat.postMessage', owner.token, { channel: channels[sent % 2], text: `m${sent}` }).catch(() => undefined)))
          return;
      }
    };
    const writing = Promise.all([writer(n1), writer(n1)]);
    const n2Writing = writer(n2);
    await waitFor(() => sent >= 30, 10_000, 'traffic');
    const orphans = clients.filter((c) => c.url === n2.url);
    const dropped = orphans.map((c) => new Promise((resolve) => c.socket!.once('disconnect', resolve)));
    for (const s of n2Connections) s.destroy();
    await Promise.all(dropped);
    n2Closing = n2.close().catch(() => undefined);
    for (const c of orphans) {
      c.url = n1.url;
      await c.connect({ sync: c.cursors() });
    }
    await Promise.all([writing, n2Writing]);
    // Zed's only socket died with node 2: node 1 reports him away (the heartbeat expiry that covers a
    // node that cannot say so itself is checked in presence.unit.spec.ts).
    await waitFor(() => watcher.presence.length === 2, 10_000, 'zed away after node 2 died');
    expect(watcher.presence[1]).toEqual({ user: zed.id, presence: 'away' });
    expect(z.connected).toBe(false);

    const head = await heads(n1, channels);
    for (const c of clients) await waitFor(() => channels.every((ch) => c.last(ch) >= head.get(ch)!), 15_000, `${c.user.id} caught up`);
    for (const c of clients) {
      expectComplete(c, head);
      c.disconnect();
    }
  });
});
