import { randomBytes } from 'node:crypto';
import webpush from 'web-push';
import { JobQueues } from '../../src/jobs/job-queues.js';
import { NotifyDispatcher } from '../../src/jobs/notify/notify-dispatcher.service.js';
import type { Recipient } from '../../src/jobs/notify/notify.repository.js';
import { notifyJobId, QUEUES } from '../../src/jobs/queues.js';
import { TestClient } from '../realtime/support.js';
import { TestApp, type TestUser } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';
import { type Device, PushService } from './push-service.js';

const SECRET = 'the vault code is 7741';

// Issue 13: who is told about a message, and what reaches the device, through the whole path:
// post -> log -> notify consumer (decision) -> BullMQ -> worker -> Web Push endpoint (this test's).
describe('notifications by Web Push', () => {
  let t: TestApp;
  let push: PushService;
  let ws: string;
  let ada: TestUser;
  let bob: TestUser;
  const decisions = new Map<string, Recipient[]>();
  const vapid = webpush.generateVAPIDKeys();

  beforeAll(async () => {
    push = await push_();
    t = await TestApp.start({
      VAPID_PUBLIC_KEY: vapid.publicKey,
      VAPID_PRIVATE_KEY: vapid.privateKey,
      VAPID_SUBJECT: 'mailto:ops@example.com',
      PUSH_ALLOW_HTTP: 'true',
      PUSH_ALLOW_LOOPBACK: 'true',
      JOBS_DISPATCH_INTERVAL_MS: '50',
      EKM_LOCAL_MASTER_KEY: randomBytes(32).toString('base64'),
    });
    t.app.get(NotifyDispatcher).projection.onDecision((d) => decisions.set(`${d.channel}:${d.seq}`, d.recipients));
    ws = await t.newWorkspace();
    [ada, bob] = await Promise.all([t.newUser(ws, 'member', 'ada'), t.newUser(ws, 'member', 'bob')]);
  });
  // Each test registers the devices it needs.
  afterEach(() => t.pool.query('DELETE FROM push_subscriptions'));
  afterAll(async () => {
    await t.close();
    await push.stop();
  });

  async function push_() {
    return new PushService().start();
  }

  async function register(user: TestUser): Promise<Device> {
    const device = push.device();
    const res = await t.api('users.push.subscribe', user.token, { endpoint: device.endpoint, ...device.keys });
    expect(res.body).toEqual({ ok: true });
    return device;
  }

  async function post(user: TestUser, channel: string, text: string, extra: Record<string, string> = {}) {
    const res = await t.api('chat.postMessage', user.token, { channel, text, ...extra });
    expect(res.body.ok).toBe(true);
    return res.body as { ts: string; seq: number };
  }

  /** The consumer's decision for a message (waits until the consumer reached it). */
  async function decided(channel: string, seq: number): Promise<Recipient[]> {
    await waitFor(() => decisions.has(`${channel}:${seq}`), 20_000, `the notify decision for ${channel}:${seq}`);
    return decisions.get(`${channel}:${seq}`)!;
  }

  /** Waits until the job of one message for one device has completed (whatever it did). */
  async function finished(channel: string, seq: number, subscription: string): Promise<void> {
    const queue = t.app.get(JobQueues).get(QUEUES.notify);
    const id = notifyJobId(channel, seq, subscription);
    await waitFor(async () => !!(await (await queue.getJob(id))?.isCompleted()), 20_000, `notify job ${id}`);
  }

  const subscriptionOf = async (device: Device) =>
    (await t.pool.query<{ id: string }>('SELECT id::text FROM push_subscriptions WHERE endpoint = $1', [device.endpoint])).rows[0]?.id;

  it('a mention of an away user reaches each of their devices once, encrypted, collapsed per channel', async () => {
    const [phone, laptop] = [await register(bob), await register(bob)];
    const channel = await t.newChannel(ada, 'general', false, [bob]);
    const msg = await post(ada, channel, `<@${bob.id}> ${SECRET} <https://example.com/x|the doc>`);

    await waitFor(() => push.to(phone).length > 0 && push.to(laptop).length > 0, 20_000, 'both devices notified');
    expect((await decided(channel, msg.seq)).map((r) => r.user)).toEqual([bob.id, bob.id]);
    for (const device of [phone, laptop]) {
      await finished(channel, msg.seq, (await subscriptionOf(device))!);
      const [got] = push.to(device);
      expect(push.to(device)).toHaveLength(1);
      expect(got.headers['content-encoding']).toBe('aes128gcm');
      expect(got.headers.topic).toBe(channel); // a newer one replaces a pending one of the same channel
      expect(got.headers.authorization).toMatch(new RegExp(`^vapid t=.+, k=${vapid.publicKey}$`));
      expect(got.body.includes(Buffer.from('vault'))).toBe(false); // encrypted on the wire
      expect(device.open(got.body)).toEqual({
        title: 'ada in #general',
        body: `@${bob.id} ${SECRET} the doc`,
        channel,
        ts: msg.ts,
        url: `${t.config.PUBLIC_URL}/`,
      });
    }
    // The author's own message, and a message mentioning nobody, notify no one.
    const plain = await post(bob, channel, `no mention of <@${bob.id}>`);
    const quiet = await post(ada, channel, 'nothing for anyone');
    expect(await decided(channel, plain.seq)).toEqual([]);
    expect(await decided(channel, quiet.seq)).toEqual([]);
    expect((await t.api('users.push.info', bob.token)).body).toEqual({
      ok: true,
      enabled: true,
      vapid_public_key: vapid.publicKey,
      devices: 2,
    });
    expect((await t.api('users.push.unsubscribe', bob.token, { endpoint: laptop.endpoint })).body).toEqual({ ok: true });
    expect((await t.api('users.push.unsubscribe', bob.token, { endpoint: laptop.endpoint })).body.error).toBe('not_found');
    expect((await t.api('users.push.info', bob.token)).body.devices).toBe(1);
  });

  it('nobody looking at the channel is told; someone looking elsewhere is', async () => {
    const device = await register(bob);
    const channel = await t.newChannel(ada, 'watched', false, [bob]);
    const other = await t.newChannel(bob, 'elsewhere');
    const client = await new TestClient(bob, t.url).connect();
    try {
      expect((await client.ack('view', { channel })).ok).toBe(true);
      const seen = await post(ada, channel, `<@${bob.id}> are you there?`);
      expect(await decided(channel, seen.seq)).toEqual([]);

      // The same person, now looking at another channel: away from this one, so told.
      expect((await client.ack('view', { channel: other })).ok).toBe(true);
      const missed = await post(ada, channel, `<@${bob.id}> now?`);
      expect((await decided(channel, missed.seq)).map((r) => r.user)).toEqual([bob.id]);
      await waitFor(() => push.to(device).length === 1, 20_000, 'the notification');
      expect(device.open(push.to(device)[0].body).ts).toBe(missed.ts);

      // <!here> reaches active members only: bob (connected) but not carol (no socket anywhere).
      const carol = await t.newUser(ws, 'member', 'carol');
      await t.api('conversations.invite', ada.token, { channel, users: carol.id });
      const carolDevice = await register(carol);
      const here = await post(ada, channel, '<!here> standup');
      expect((await decided(channel, here.seq)).map((r) => r.user)).toEqual([bob.id]);
      const all = await post(ada, channel, '<!channel> release');
      expect((await decided(channel, all.seq)).map((r) => r.user).sort()).toEqual([bob.id, carol.id].sort());
      await waitFor(() => push.to(carolDevice).length === 1, 20_000, "carol's notification");
    } finally {
      client.disconnect();
    }
  });

  it('a muted channel notifies nothing, from the next message on; preferences are the users own', async () => {
    const device = await register(bob);
    const channel = await t.newChannel(ada, 'noisy', false, [bob]);
    const muted = await t.api('users.prefs.set', bob.token, { channel, muted: true });
    expect(muted.body).toEqual({ ok: true, prefs: { notify: 'mentions', channels: [{ channel, notify: null, muted: true }] } });
    const m1 = await post(ada, channel, `<@${bob.id}> muted?`);
    expect(await decided(channel, m1.seq)).toEqual([]);

    expect((await t.api('users.prefs.set', bob.token, { channel, muted: false })).body.prefs.channels).toEqual([]);
    const m2 = await post(ada, channel, `<@${bob.id}> unmuted`);
    expect((await decided(channel, m2.seq)).map((r) => r.user)).toEqual([bob.id]);

    // Levels: `all` tells every message of the channel, `nothing` not even a mention.
    await t.api('users.prefs.set', bob.token, { channel, notify: 'all' });
    const m3 = await post(ada, channel, 'any message at all');
    expect((await decided(channel, m3.seq)).map((r) => r.user)).toEqual([bob.id]);
    await t.api('users.prefs.set', bob.token, { notify: 'nothing' });
    await t.api('users.prefs.set', bob.token, { channel, notify: 'default' });
    const m4 = await post(ada, channel, `<@${bob.id}> nothing now`);
    expect(await decided(channel, m4.seq)).toEqual([]);
    expect((await t.api('users.prefs.get', bob.token)).body.prefs).toEqual({ notify: 'nothing', channels: [] });
    await t.api('users.prefs.set', bob.token, { notify: 'mentions' });
    await waitFor(() => push.to(device).length === 2, 20_000, 'the two notifications (m2, m3)');
    expect(
      push
        .to(device)
        .map((r) => device.open(r.body).ts)
        .sort(),
    ).toEqual([m2.ts, m3.ts]);

    // Bad input: a clear error and nothing written.
    const before = await t.api('users.prefs.get', bob.token);
    expect((await t.api('users.prefs.set', bob.token, { notify: 'loud' })).body.error).toBe('invalid_arguments');
    expect((await t.api('users.prefs.set', bob.token, { notify: 'default' })).body.error).toBe('invalid_arguments');
    expect((await t.api('users.prefs.set', bob.token, { channel: 'CNOPE', muted: true })).body.error).toBe('channel_not_found');
    const secret = await t.newChannel(ada, 'secret', true);
    expect((await t.api('users.prefs.set', bob.token, { channel: secret, muted: true })).body.error).toBe('channel_not_found');
    expect((await t.api('users.prefs.get', bob.token)).body).toEqual(before.body);
    await t.api('users.push.unsubscribe', bob.token, { endpoint: device.endpoint });
  });

  it('thread replies tell the thread participants; DMs tell every member', async () => {
    const device = await register(bob);
    const channel = await t.newChannel(ada, 'threads', false, [bob]);
    const parent = await post(bob, channel, 'a question');
    const reply = await post(ada, channel, 'an answer', { thread_ts: parent.ts });
    expect((await decided(channel, reply.seq)).map((r) => r.user)).toEqual([bob.id]);
    const dm = (await t.api('conversations.open', ada.token, { users: bob.id })).body.channel.id as string;
    const direct = await post(ada, dm, 'psst');
    expect((await decided(dm, direct.seq)).map((r) => r.user)).toEqual([bob.id]);
    await waitFor(() => push.to(device).length === 2, 20_000, 'both notifications');
    const dmPayload = push
      .to(device)
      .map((r) => device.open(r.body))
      .find((p) => p.channel === dm)!;
    expect(dmPayload).toMatchObject({ title: 'ada', body: 'psst' });
  });

  it('410 from the push service removes the device', async () => {
    const device = await register(bob);
    device.status = 410;
    const id = (await subscriptionOf(device))!;
    const channel = await t.newChannel(ada, 'gone', false, [bob]);
    const msg = await post(ada, channel, `<@${bob.id}> hello?`);
    await finished(channel, msg.seq, id);
    expect(await subscriptionOf(device)).toBeUndefined();
    expect((await t.api('users.push.info', bob.token)).body).toMatchObject({ ok: true, enabled: true, devices: 0 });
    // Nothing is sent to it again.
    const next = await post(ada, channel, `<@${bob.id}> still?`);
    expect(await decided(channel, next.seq)).toEqual([]);
    expect(push.to(device)).toHaveLength(1);
  });

  it('a push service that fails for a while gets the notification again, and it is shown once', async () => {
    const device = await register(bob);
    device.next.push(503, 500);
    const channel = await t.newChannel(ada, 'flaky', false, [bob]);
    const msg = await post(ada, channel, `<@${bob.id}> retry me`);
    await finished(channel, msg.seq, (await subscriptionOf(device))!);
    expect(push.to(device).map((r) => r.status)).toEqual([503, 500, 201]);
    // The same encrypted message each time (one notification); the device stays registered.
    expect(new Set(push.to(device).map((r) => JSON.stringify(device.open(r.body)))).size).toBe(1);
    expect(await subscriptionOf(device)).toBeDefined();
  });

  it('refuses endpoints the SSRF guard refuses, and bad keys, writing nothing', async () => {
    const device = push.device();
    const count = async () => (await t.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM push_subscriptions')).rows[0].n;
    const before = await count();
    for (const endpoint of [
      'http://10.0.0.8/push',
      'https://169.254.169.254/latest',
      'https://[fd00::1]/x',
      'ftp://127.0.0.1/x',
      'not a url',
    ]) {
      const res = await t.api('users.push.subscribe', bob.token, { endpoint, ...device.keys });
      expect(res.body).toMatchObject({ ok: false, error: 'invalid_endpoint' });
    }
    expect(
      (await t.api('users.push.subscribe', bob.token, { endpoint: device.endpoint, p256dh: 'short', auth: device.keys.auth })).body.error,
    ).toBe('invalid_arguments');
    expect((await t.api('users.push.subscribe', bob.token, { endpoint: device.endpoint })).body.error).toBe('invalid_arguments');
    expect(await count()).toBe(before);
  });

  it('EKM: the notification carries no text, and none is sent while the key is revoked', async () => {
    const ews = await t.newWorkspace('Vault');
    const [admin, eve, dan] = await Promise.all([
      t.newUser(ews, 'admin'),
      t.newUser(ews, 'member', 'eve'),
      t.newUser(ews, 'member', 'dan'),
    ]);
    const enabled = await t.admin('POST', `/workspaces/${ews}/ekm`, { provider: 'local' });
    expect(enabled.status).toBe(202);
    const device = await register(dan);
    const channel = await t.newChannel(eve, 'vault', false, [dan]);
    const msg = await post(eve, channel, `<@${dan.id}> ${SECRET}`);
    await waitFor(() => push.to(device).length === 1, 20_000, 'the notification');
    const payload = device.open(push.to(device)[0].body);
    expect(payload).toEqual({ title: '#vault', body: 'New message in #vault', channel, ts: msg.ts, url: `${t.config.PUBLIC_URL}/` });
    expect(JSON.stringify(payload)).not.toMatch(/vault code|7741|eve/);

    // Revoked: a DM (every member is told, whatever the text says) is decided but never sent.
    const dm = (await t.api('conversations.open', eve.token, { users: dan.id })).body.channel.id as string;
    const revoked = await t.admin('POST', `/workspaces/${ews}/ekm/revocations`, {}, OPERATOR());
    expect(revoked.status).toBeLessThan(300);
    const hidden = await post(eve, dm, SECRET);
    const [r] = await decided(dm, hidden.seq);
    expect(r.user).toBe(dan.id);
    await finished(dm, hidden.seq, r.subscription);
    expect(push.to(device)).toHaveLength(1);
    expect(admin.id).toBeTruthy();
  });
});

const OPERATOR = () => 'test-operator-token-0123456789';
