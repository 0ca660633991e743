import webpush from 'web-push';
import { JobQueues } from '../../src/jobs/job-queues.js';
import { NotifyDispatcher } from '../../src/jobs/notify/notify-dispatcher.service.js';
import { NotifyRepository } from '../../src/jobs/notify/notify.repository.js';
import { QUEUES } from '../../src/jobs/queues.js';
import { TestApp, type TestUser } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';
import { type Device, PushService } from './push-service.js';

const MEMBERS = 1000;
const AWAY = 11; // one of them mutes the channel: 10 are told

// Issue 13: `<!channel>` in a 1,000-member channel tells exactly the away members (minus mutes),
// once per device, and the post does no per-member work (it answers with the consumer stopped).
describe('<!channel> in a 1,000-member channel', () => {
  let t: TestApp;
  let push: PushService;
  let ada: TestUser;
  let channel: string;
  const devices = new Map<string, Device[]>(); // user -> devices
  const vapid = webpush.generateVAPIDKeys();

  beforeAll(async () => {
    push = await new PushService().start();
    t = await TestApp.start({
      VAPID_PUBLIC_KEY: vapid.publicKey,
      VAPID_PRIVATE_KEY: vapid.privateKey,
      PUSH_ALLOW_HTTP: 'true',
      PUSH_ALLOW_LOOPBACK: 'true',
      JOBS_DISPATCH_INTERVAL_MS: '50',
    });
    const ws = await t.newWorkspace();
    ada = await t.newUser(ws, 'member', 'ada');
    channel = await t.newChannel(ada, 'announcements');
    // Members in bulk (SQL): 1,000 HTTP round trips would only slow the test down.
    const { rows } = await t.pool.query<{ id: string }>(
      `INSERT INTO users (id, workspace_id, name, role)
       SELECT 'UB' || lpad(i::text, 6, '0'), $1, 'member' || i, 'member' FROM generate_series(1, $2::int) i RETURNING id`,
      [ws, MEMBERS - 1],
    );
    await t.pool.query(`INSERT INTO channel_members (channel_id, user_id, joined_seq) SELECT $1, unnest($2::text[]), 0`, [
      channel,
      rows.map((r) => r.id),
    ]);
    // Every member has a device; one away member has two.
    for (const { id } of rows) devices.set(id, [push.device()]);
    const away = rows.slice(0, AWAY).map((r) => r.id);
    devices.get(away[0])!.push(push.device());
    const subs = [...devices].flatMap(([user, ds]) => ds.map((d) => ({ user, endpoint: d.endpoint, ...d.keys })));
    await t.pool.query(
      `INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])`,
      [subs.map((s) => s.user), subs.map((s) => s.endpoint), subs.map((s) => s.p256dh), subs.map((s) => s.auth)],
    );
    // Everyone else is looking at the channel right now (as the realtime layer records a `view`).
    const repo = t.app.get(NotifyRepository);
    const viewing = rows.slice(AWAY).map((r, i) => ({ socket: `s${i}`, user: r.id, channel }));
    await repo.showViewers('test-node', viewing, 600_000);
    await repo.setChannel(away[AWAY - 1], channel, { muted: true });
  }, 60_000);
  afterAll(async () => {
    await t.close();
    await push.stop();
  });

  const expected = () =>
    [...devices]
      .slice(0, AWAY - 1)
      .flatMap(([, ds]) => ds)
      .map((d) => d.id)
      .sort();

  async function settled(total: number) {
    const queue = t.app.get(JobQueues).get(QUEUES.notify);
    await waitFor(
      async () => {
        const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'prioritized');
        return c.completed === total && c.waiting + c.active + c.delayed + c.prioritized === 0;
      },
      30_000,
      `${total} notify jobs completed`,
    );
  }

  it('tells exactly the 10 away members, once per device, after the post has answered', async () => {
    const dispatcher = t.app.get(NotifyDispatcher);
    const decisions: number[] = [];
    dispatcher.projection.onDecision((d) => d.channel === channel && decisions.push(d.recipients.length));
    const before = await t.pool.query<{ tx_id: string; position: string }>(
      `SELECT tx_id::text, position FROM checkpoints WHERE name = 'notify'`,
    );

    // The consumer is stopped: the post commits and answers without it, so its cost cannot grow
    // with the members (no per-member work on the post's path).
    await dispatcher.projector.stop();
    const posted = await t.api('chat.postMessage', ada.token, { channel, text: '<!channel> the release is out' });
    expect(posted.body.ok).toBe(true);
    const history = await t.api('conversations.history', ada.token, { channel, limit: 1 });
    expect(history.body.messages[0].ts).toBe(posted.body.ts);
    expect(await t.app.get(JobQueues).get(QUEUES.notify).count()).toBe(0);
    expect(decisions).toEqual([]);

    dispatcher.projector.start();
    await settled(AWAY);
    expect(decisions).toEqual([AWAY]); // 10 members, one with two devices
    expect(push.received.map((r) => r.device.id).sort()).toEqual(expected());
    const first = push.received[0];
    expect(first.device.open(first.body)).toMatchObject({ ts: posted.body.ts, body: '@channel the release is out' });

    // A repeat of the decision (a crash before the checkpoint moved) sends nothing twice: the job
    // ids are the message's and the device's.
    await dispatcher.projector.stop();
    if (before.rows[0])
      await t.pool.query(`UPDATE checkpoints SET tx_id = $1::xid8, position = $2 WHERE name = 'notify'`, [
        before.rows[0].tx_id,
        before.rows[0].position,
      ]);
    else await t.pool.query(`DELETE FROM checkpoints WHERE name = 'notify'`);
    dispatcher.projector.start();
    await waitFor(() => decisions.length === 2, 20_000, 'the repeated decision');
    expect(decisions).toEqual([AWAY, AWAY]);
    await settled(AWAY);
    expect(push.received.map((r) => r.device.id).sort()).toEqual(expected());
  }, 60_000);
});
