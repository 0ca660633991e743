import webpush from 'web-push';
import { NotifyDispatcher } from '../../src/jobs/notify/notify-dispatcher.service.js';
import type { Recipient } from '../../src/jobs/notify/notify.repository.js';
import { TestClient } from '../realtime/support.js';
import { startTwoNodes, type TwoNodes } from '../support/nodes.js';
import { TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';
import { PushService } from './push-service.js';

// The consumer runs on one node; who looks at what is known on the node holding the socket. The
// shared notify_viewers table makes a `view` on node 2 count in a decision made on node 1.
describe('notifications across nodes', () => {
  let nodes: TwoNodes;
  let n1: TestApp;
  let n2: TestApp;
  let push: PushService;
  const decisions = new Map<string, Recipient[]>();

  beforeAll(async () => {
    push = await new PushService().start();
    const vapid = webpush.generateVAPIDKeys();
    const env = {
      VAPID_PUBLIC_KEY: vapid.publicKey,
      VAPID_PRIVATE_KEY: vapid.privateKey,
      PUSH_ALLOW_HTTP: 'true',
      PUSH_ALLOW_LOOPBACK: 'true',
      JOBS_DISPATCH_INTERVAL_MS: '50',
    };
    // Node 2 serves sockets and HTTP only: the decision is certainly made on node 1.
    ({ n1, n2 } = nodes = await startTwoNodes(env, { JOBS_DISPATCHER_ENABLED: 'false' }));
    n1.app.get(NotifyDispatcher).projection.onDecision((d) => decisions.set(`${d.channel}:${d.seq}`, d.recipients));
  });
  afterAll(async () => {
    await nodes?.close();
    await push.stop();
  });

  const decided = async (channel: string, seq: number) => {
    await waitFor(() => decisions.has(`${channel}:${seq}`), 20_000, `the decision for ${channel}:${seq}`);
    return decisions.get(`${channel}:${seq}`)!.map((r) => r.user);
  };

  it('a viewer on node 2 is not told about a post decided on node 1; once they leave, they are', async () => {
    const ws = await n1.newWorkspace();
    const [ada, bob] = [await n1.newUser(ws, 'member', 'ada'), await n1.newUser(ws, 'member', 'bob')];
    const channel = await n1.newChannel(ada, 'nodes', false, [bob]);
    const device = push.device();
    expect((await n2.api('users.push.subscribe', bob.token, { endpoint: device.endpoint, ...device.keys })).body.ok).toBe(true);

    const viewer = await new TestClient(bob, n2.url).connect();
    expect((await viewer.ack('view', { channel })).ok).toBe(true);
    const seen = await n1.api('chat.postMessage', ada.token, { channel, text: `<@${bob.id}> over here` });
    expect(await decided(channel, seen.body.seq)).toEqual([]);

    viewer.disconnect();
    const rows = async () => (await n1.pool.query('SELECT 1 FROM notify_viewers WHERE user_id = $1', [bob.id])).rowCount;
    await waitFor(async () => (await rows()) === 0, 20_000, "node 2 dropping bob's socket row");
    const missed = await n1.api('chat.postMessage', ada.token, { channel, text: `<@${bob.id}> gone?` });
    expect(await decided(channel, missed.body.seq)).toEqual([bob.id]);
    await waitFor(() => push.to(device).length === 1, 20_000, 'the notification');
    expect(device.open(push.to(device)[0].body).ts).toBe(missed.body.ts);
  });
});

// Looking means a socket whose user did something lately: an idle tab left open on the channel
// stops counting once its row expires (heartbeats refresh busy sockets only).
describe('an idle viewer', () => {
  let t: TestApp;
  let push: PushService;
  const decisions = new Map<string, Recipient[]>();

  beforeAll(async () => {
    push = await new PushService().start();
    const vapid = webpush.generateVAPIDKeys();
    t = await TestApp.start({
      VAPID_PUBLIC_KEY: vapid.publicKey,
      VAPID_PRIVATE_KEY: vapid.privateKey,
      PUSH_ALLOW_HTTP: 'true',
      PUSH_ALLOW_LOOPBACK: 'true',
      JOBS_DISPATCH_INTERVAL_MS: '50',
      PRESENCE_IDLE_MS: '100',
      PRESENCE_HEARTBEAT_MS: '100',
    });
    t.app.get(NotifyDispatcher).projection.onDecision((d) => decisions.set(`${d.channel}:${d.seq}`, d.recipients));
  });
  afterAll(async () => {
    await t.close();
    await push.stop();
  });

  it('is told once the socket has been idle long enough, though the channel is still on screen', async () => {
    const ws = await t.newWorkspace();
    const [ada, bob] = [await t.newUser(ws, 'member', 'ada'), await t.newUser(ws, 'member', 'bob')];
    const channel = await t.newChannel(ada, 'idle', false, [bob]);
    const device = push.device();
    expect((await t.api('users.push.subscribe', bob.token, { endpoint: device.endpoint, ...device.keys })).body.ok).toBe(true);
    const viewer = await new TestClient(bob, t.url).connect();
    try {
      expect((await viewer.ack('view', { channel })).ok).toBe(true);
      const active = async () =>
        (
          await t.pool.query('SELECT 1 FROM notify_viewers WHERE user_id = $1 AND channel_id = $2 AND active_until > now()', [
            bob.id,
            channel,
          ])
        ).rowCount;
      await waitFor(async () => (await active()) === 0, 20_000, "bob's row expiring while he idles");
      const msg = await t.api('chat.postMessage', ada.token, { channel, text: `<@${bob.id}> still there?` });
      await waitFor(() => decisions.has(`${channel}:${msg.body.seq}`), 20_000, 'the decision');
      expect(decisions.get(`${channel}:${msg.body.seq}`)!.map((r) => r.user)).toEqual([bob.id]);
      await waitFor(() => push.to(device).length === 1, 20_000, 'the notification');
    } finally {
      viewer.disconnect();
    }
  });
});
