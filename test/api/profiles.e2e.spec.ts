import { TestClient, waitFor } from '../realtime/support.js';
import { startTwoNodes, type TwoNodes } from '../support/nodes.js';
import { TestApp, type TestUser } from '../support/test-app.js';

type UserChange = { type: string; user: { id: string; profile: Record<string, unknown> } };

/** A connected client that records `user_change` pushes. */
async function watcher(t: TestApp, user: TestUser) {
  const client = await new TestClient(user, t.url).connect();
  const changes: UserChange[] = [];
  client.socket!.on('user_change', (c: UserChange) => changes.push(c));
  return { client, changes };
}

describe('profiles, status and presence', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await TestApp.start();
  });
  afterAll(async () => {
    await t.close();
  });

  it('users.profile.set and get: Slack shapes and all fields, the email included', async () => {
    const ws = await t.newWorkspace();
    const ada = await t.newUser(ws);
    const bob = await t.newUser(ws);
    await t.pool.query(`UPDATE users SET email = 'ada@example.com' WHERE id = $1`, [ada.id]);
    const expiration = Math.floor(Date.now() / 1000) + 3600;
    const profile = {
      display_name: 'ada',
      real_name: 'Ada Lovelace',
      title: 'Analyst',
      status_text: 'On the engine',
      status_emoji: ':gear:',
      status_expiration: expiration,
      avatar_url: 'https://img.example/ada.png',
    };
    const set = await t.api('users.profile.set', ada.token, { profile: JSON.stringify(profile) });
    const { avatar_url: avatar, ...fields } = profile;
    // Slack has no avatar_url in a profile: the picture comes back as image_* URLs.
    expect(set.body).toMatchObject({ ok: true, profile: { ...fields, image_72: avatar, image_192: avatar } });
    const own = await t.api('users.profile.get', ada.token);
    expect(own.body.profile).toMatchObject({ status_text: 'On the engine', status_expiration: expiration, email: 'ada@example.com' });
    const seen = await t.api('users.profile.get', bob.token, { user: ada.id });
    expect(seen.body.profile).toMatchObject({ real_name: 'Ada Lovelace', title: 'Analyst' });
    expect(seen.body.profile.email).toBe('ada@example.com');
    // name + value sets one field.
    const one = await t.api('users.profile.set', ada.token, { name: 'title', value: 'Countess' });
    expect(one.body.profile).toMatchObject({ title: 'Countess', real_name: 'Ada Lovelace' });
    const info = await t.api('users.info', bob.token, { user: ada.id });
    expect(info.body.user.profile).toMatchObject({ title: 'Countess', status_emoji: ':gear:' });
  });

  it('refuses bad profiles with Slack codes and writes nothing', async () => {
    const ws = await t.newWorkspace();
    const ada = await t.newUser(ws);
    const bob = await t.newUser(ws);
    const before = await t.pool.query('SELECT * FROM users WHERE id = $1', [ada.id]);
    const past = Math.floor(Date.now() / 1000) - 10;
    const cases: Array<[Record<string, string>, string]> = [
      [{}, 'invalid_profile'],
      [{ profile: 'not json' }, 'invalid_profile'],
      [{ profile: '[]' }, 'invalid_profile'],
      [{ profile: '{}' }, 'invalid_profile'],
      [{ profile: JSON.stringify({ email: 'x@y.z' }) }, 'invalid_profile'],
      [{ profile: JSON.stringify({ status_text: 'x'.repeat(101) }) }, 'invalid_profile'],
      [{ profile: JSON.stringify({ status_emoji: 'gear' }) }, 'invalid_profile'],
      [{ profile: JSON.stringify({ status_expiration: past }) }, 'invalid_profile'],
      [{ profile: JSON.stringify({ status_expiration: 'soon' }) }, 'invalid_profile'],
      [{ profile: JSON.stringify({ avatar_url: 'javascript:alert(1)' }) }, 'invalid_profile'],
      [{ profile: JSON.stringify({ title: 'x' }), user: bob.id }, 'not_admin'],
    ];
    for (const [args, error] of cases) {
      const res = await t.api('users.profile.set', ada.token, args);
      expect([JSON.stringify(args), res.status, res.body]).toEqual([JSON.stringify(args), 200, { ok: false, error }]);
    }
    expect((await t.pool.query('SELECT * FROM users WHERE id = $1', [ada.id])).rows).toEqual(before.rows);
    expect((await t.pool.query('SELECT count(*)::int n FROM status_expirations WHERE user_id = $1', [ada.id])).rows[0].n).toBe(0);
    expect((await t.api('users.profile.get', ada.token, { user: 'UNOPE' })).body).toEqual({ ok: false, error: 'user_not_found' });
    // A workspace admin may change a member's profile, not another admin's.
    const [boss, other] = [await t.newUser(ws, 'admin'), await t.newUser(ws, 'admin')];
    const byAdmin = await t.api('users.profile.set', boss.token, { user: bob.id, name: 'title', value: 'Intern' });
    expect(byAdmin.body.profile).toMatchObject({ title: 'Intern' });
    expect((await t.api('users.profile.set', boss.token, { user: other.id, name: 'title', value: 'x' })).body).toEqual({
      ok: false,
      error: 'cannot_update_admin_user',
    });
    expect((await t.api('users.profile.set', boss.token, { user: 'UNOPE', name: 'title', value: 'x' })).body).toEqual({
      ok: false,
      error: 'user_not_found',
    });
    expect((await t.api('users.profile.get', undefined)).body).toEqual({ ok: false, error: 'not_authed' });
  });

  it('users.lookupByEmail finds a user of the caller workspace only, case-insensitively', async () => {
    const ws = await t.newWorkspace();
    const other = await t.newWorkspace('Other');
    const created = await t.admin('POST', `/workspaces/${ws}/users`, { name: 'eve', role: 'member', email: 'Eve@Example.com' });
    expect(created.status).toBe(201);
    const dup = await t.admin('POST', `/workspaces/${ws}/users`, { name: 'eve2', role: 'member', email: 'eve@example.com' });
    expect(dup).toMatchObject({ status: 409, body: { message: 'email_taken' } });
    const bad = await t.admin('POST', `/workspaces/${ws}/users`, { name: 'eve3', role: 'member', email: 'not-an-email' });
    expect(bad.status).toBe(400);
    const me = await t.newUser(ws);
    const stranger = await t.newUser(other);
    const found = await t.api('users.lookupByEmail', me.token, { email: 'EVE@example.com' });
    expect(found.body).toMatchObject({ ok: true, user: { id: created.body.user.id, name: 'eve' } });
    expect((await t.api('users.lookupByEmail', stranger.token, { email: 'eve@example.com' })).body).toEqual({
      ok: false,
      error: 'users_not_found',
    });
    expect((await t.api('users.lookupByEmail', me.token, {})).body).toEqual({ ok: false, error: 'invalid_email' });
  });

  it('users.setPresence away shows away to others and to presence subscribers; auto brings the connected user back', async () => {
    const ws = await t.newWorkspace();
    const ada = await t.newUser(ws);
    const bob = await t.newUser(ws);
    const watch = await new TestClient(bob, t.url).connect();
    const ada1 = await new TestClient(ada, t.url).connect();
    try {
      await watch.ack('presence.subscribe', { users: [ada.id] });
      await waitFor(async () => (await t.api('users.getPresence', bob.token, { user: ada.id })).body.presence === 'active');
      expect((await t.api('users.setPresence', ada.token, { presence: 'away' })).body).toEqual({ ok: true });
      await waitFor(() => watch.presence.some((p) => p.presence === 'away'), 10_000, 'away pushed');
      expect((await t.api('users.getPresence', bob.token, { user: ada.id })).body).toEqual({ ok: true, presence: 'away' });
      expect((await t.api('users.getPresence', ada.token)).body).toEqual({
        ok: true,
        presence: 'away',
        online: false,
        auto_away: false,
        manual_away: true,
      });
      expect((await t.api('users.setPresence', ada.token, { presence: 'auto' })).body).toEqual({ ok: true });
      await waitFor(() => watch.presence[watch.presence.length - 1]?.presence === 'active', 10_000, 'active again');
      expect((await t.api('users.setPresence', ada.token, { presence: 'gone' })).body).toEqual({ ok: false, error: 'invalid_presence' });
    } finally {
      watch.disconnect();
      ada1.disconnect();
    }
  });

  it('a profile change reaches the subscribed socket and not an unsubscribed one of the same workspace', async () => {
    const ws = await t.newWorkspace();
    const [ada, bob, cat, dan] = [await t.newUser(ws), await t.newUser(ws), await t.newUser(ws), await t.newUser(ws)];
    const subscribed = await watcher(t, bob);
    const unsubscribed = await watcher(t, cat);
    try {
      expect(await subscribed.client.ack('users.subscribe', { users: [ada.id, 'UNKNOWN1'] })).toEqual({ ok: true, users: [ada.id] });
      // cat watched ada, then replaced the list with dan only.
      await unsubscribed.client.ack('users.subscribe', { users: [ada.id] });
      expect(await unsubscribed.client.ack('users.subscribe', { users: [dan.id] })).toEqual({ ok: true, users: [dan.id] });
      expect(await subscribed.client.ack('users.subscribe', { users: 'nope' })).toEqual({ ok: false, error: 'invalid_arguments' });

      await t.api('users.profile.set', ada.token, { profile: JSON.stringify({ status_text: 'lunch', status_emoji: ':taco:' }) });
      await waitFor(() => subscribed.changes.length === 1, 10_000, 'user_change to the subscriber');
      expect(subscribed.changes[0]).toMatchObject({ type: 'user_change', user: { id: ada.id, profile: { status_text: 'lunch' } } });
      // A later change of dan reaches cat: had ada's reached it, it would have come first.
      await t.api('users.profile.set', dan.token, { name: 'title', value: 'Chef' });
      await waitFor(() => unsubscribed.changes.length === 1, 10_000, 'user_change of dan');
      expect(unsubscribed.changes.map((c) => c.user.id)).toEqual([dan.id]);
      expect(subscribed.changes.map((c) => c.user.id)).toEqual([ada.id]);
    } finally {
      subscribed.client.disconnect();
      unsubscribed.client.disconnect();
    }
  });

  it('a status expires by itself: cleared in the database and pushed to subscribers, with no one asking', async () => {
    const ws = await t.newWorkspace();
    const [ada, bob] = [await t.newUser(ws), await t.newUser(ws)];
    const sub = await watcher(t, bob);
    try {
      await sub.client.ack('users.subscribe', { users: [ada.id] });
      const expiration = Math.floor(Date.now() / 1000) + 2;
      await t.api('users.profile.set', ada.token, {
        profile: JSON.stringify({ status_text: 'brb', status_emoji: ':coffee:', status_expiration: expiration }),
      });
      await waitFor(() => sub.changes.some((c) => c.user.profile.status_text === ''), 20_000, 'expiry pushed');
      const last = sub.changes[sub.changes.length - 1];
      expect(last.user.profile).toMatchObject({ status_text: '', status_emoji: '', status_expiration: 0 });
      const row = await t.pool.query('SELECT status_text, status_expiration FROM users WHERE id = $1', [ada.id]);
      expect(row.rows[0]).toEqual({ status_text: '', status_expiration: '0' });
      // One job for that expiration, dispatched once.
      const outbox = await t.pool.query('SELECT dispatched_at IS NOT NULL AS dispatched FROM status_expirations WHERE user_id = $1', [
        ada.id,
      ]);
      expect(outbox.rows).toEqual([{ dispatched: true }]);
    } finally {
      sub.client.disconnect();
    }
  });

  it('users.info takes a batch of users, in the order asked', async () => {
    const ws = await t.newWorkspace();
    const [ada, bob] = [await t.newUser(ws), await t.newUser(ws)];
    const res = await t.api('users.info', ada.token, { users: `${bob.id},UNOPE,${ada.id}` });
    expect(res.body.users.map((u: { id: string }) => u.id)).toEqual([bob.id, ada.id]);
    expect(res.body.not_found).toEqual(['UNOPE']);
    expect((await t.api('users.info', ada.token, { users: 'a b' })).body).toEqual({ ok: false, error: 'invalid_arguments' });
    expect((await t.api('users.info', ada.token, {})).body).toEqual({ ok: false, error: 'user_not_found' });
  });
});

describe('user_change across nodes', () => {
  let nodes: TwoNodes;
  let n1: TestApp;
  let n2: TestApp;
  beforeAll(async () => {
    ({ n1, n2 } = nodes = await startTwoNodes());
  });
  afterAll(() => nodes?.close());

  it('a change made through node 1 reaches a subscriber connected to node 2', async () => {
    const ws = await n1.newWorkspace();
    const [ada, bob] = [await n1.newUser(ws), await n1.newUser(ws)];
    const sub = await watcher(n2, bob);
    try {
      await sub.client.ack('users.subscribe', { users: [ada.id] });
      await n1.api('users.profile.set', ada.token, { name: 'status_text', value: 'on node 1' });
      await waitFor(() => sub.changes.length === 1, 10_000, 'user_change on node 2');
      expect(sub.changes[0].user).toMatchObject({ id: ada.id, profile: { status_text: 'on node 1' } });
    } finally {
      sub.client.disconnect();
    }
  });
});
