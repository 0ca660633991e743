import { TestApp, type TestUser } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

describe('retention and job status over the admin API', () => {
  let t: TestApp;
  let ws: string;
  let admin: TestUser;
  let member: TestUser;
  let channel: string;

  beforeAll(async () => {
    t = await TestApp.start();
    ws = await t.newWorkspace();
    admin = await t.newUser(ws, 'admin');
    member = await t.newUser(ws, 'member');
    channel = await t.newChannel(admin, 'general');
  });
  afterAll(() => t.close());

  const policies = async () => (await t.pool.query('SELECT channel_id, keep_days FROM retention_policies ORDER BY channel_id')).rows;

  it.each([
    [{}, 'keep_days missing'],
    [{ keep_days: 0 }, 'zero days'],
    [{ keep_days: -3 }, 'negative'],
    [{ keep_days: 1.5 }, 'fractional'],
    [{ keep_days: '30' }, 'a string'],
    [{ keep_days: 36501 }, 'over 100 years'],
    [{ keep_days: 30, extra: true }, 'an unknown field'],
  ])('refuses %j (%s) with 400 and writes nothing', async (body, _reason) => {
    const res = await t.admin('PUT', `/workspaces/${ws}/retention`, body);
    expect(res.status).toBe(400);
    expect(await policies()).toEqual([]);
  });

  it('refuses members, other workspaces and unknown channels', async () => {
    expect((await t.admin('PUT', `/workspaces/${ws}/retention`, { keep_days: 30 }, member.token)).status).toBe(403);
    const other = await t.newWorkspace('Other');
    const otherAdmin = await t.newUser(other, 'admin');
    expect((await t.admin('PUT', `/workspaces/${ws}/retention`, { keep_days: 30 }, otherAdmin.token)).status).toBe(403);
    expect((await t.admin('PUT', `/workspaces/${ws}/channels/CNOPE/retention`, { keep_days: 30 })).status).toBe(404);
    expect((await t.admin('PUT', `/workspaces/TNOPE/retention`, { keep_days: 30 })).status).toBe(404);
    expect((await t.admin('GET', `/jobs`, undefined, admin.token)).status).toBe(403); // every queue: operator only
    expect(await policies()).toEqual([]);
  });

  it('sets, overrides and clears policies', async () => {
    expect((await t.admin('PUT', `/workspaces/${ws}/retention`, { keep_days: 60 }, admin.token)).status).toBe(200);
    expect((await t.admin('PUT', `/workspaces/${ws}/retention`, { keep_days: 30 }, admin.token)).status).toBe(200);
    expect((await t.admin('PUT', `/workspaces/${ws}/channels/${channel}/retention`, { keep_days: null }, admin.token)).status).toBe(200);
    // The workspace-wide setting is the one row with channel_id NULL (no magic '' channel).
    expect(await policies()).toEqual([
      { channel_id: channel, keep_days: null },
      { channel_id: null, keep_days: 30 },
    ]);
    expect((await t.admin('GET', `/workspaces/${ws}/retention`, undefined, admin.token)).body).toEqual({
      workspace: { keep_days: 30 },
      channels: [{ channel, keep_days: null }],
    });
    expect((await t.admin('DELETE', `/workspaces/${ws}/channels/${channel}/retention`, undefined, admin.token)).status).toBe(204);
    expect((await t.admin('GET', `/workspaces/${ws}/retention`, undefined, admin.token)).body.channels).toEqual([]);
  });

  it('runs a sweep on demand through the queue and reports its progress and the queues', async () => {
    await t.api('chat.postMessage', admin.token, { channel, text: 'recent, kept under a 30-day policy' });
    const started = await t.admin('POST', `/workspaces/${ws}/retention/runs`, undefined, admin.token);
    expect(started.status).toBe(202);
    const path = `/workspaces/${ws}/retention/runs/${started.body.id}`;
    await waitFor(async () => (await t.admin('GET', path, undefined, admin.token)).body.status === 'done', 20_000, 'the retention run');
    expect((await t.admin('GET', path, undefined, admin.token)).body).toMatchObject({ status: 'done', deleted: '0' });
    expect((await t.api('conversations.history', admin.token, { channel })).body.messages).toHaveLength(1);
    // Run ids are uuids; another workspace's run, a number or garbage is not found.
    expect(started.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await t.admin('GET', `/workspaces/${ws}/retention/runs/1`, undefined, admin.token)).status).toBe(404);
    expect((await t.admin('GET', `/workspaces/${ws}/retention/runs/nope`, undefined, admin.token)).status).toBe(404);
    expect((await t.admin('GET', `/workspaces/${ws}/ekm/runs/${started.body.id}`, undefined, admin.token)).status).toBe(404);

    const jobs = await t.admin('GET', '/jobs');
    expect(jobs.status).toBe(200);
    const retention = jobs.body.queues.find((q: { queue: string }) => q.queue === 'atomcast-retention');
    expect(retention.counts.completed).toBeGreaterThanOrEqual(1);
    expect(jobs.body.queues.map((q: { queue: string }) => q.queue).sort()).toEqual([
      'atomcast-ekm',
      'atomcast-files',
      'atomcast-notify',
      'atomcast-retention',
      'atomcast-scheduled',
      'atomcast-status-expiry',
      'atomcast-unfurl',
    ]);
  });
});
