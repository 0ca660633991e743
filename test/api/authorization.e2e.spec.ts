import { EventStore } from '../../src/event-store/event-store.js';
import { OPERATOR_TOKEN, TestApp, type TestUser } from '../support/test-app.js';

// Who may see and change what: membership, workspaces, authorship and the admin API.

describe('authorization', () => {
  let t: TestApp;
  let ws: string;
  let owner: TestUser; // creates the channels
  let member: TestUser; // invited into them
  let outsider: TestUser; // same workspace, not a member
  let admin: TestUser; // workspace admin, not a member of the private channel
  let stranger: TestUser; // another workspace
  let strangerAdmin: TestUser;

  beforeAll(async () => {
    t = await TestApp.start();
    ws = await t.newWorkspace('Acme');
    owner = await t.newUser(ws);
    member = await t.newUser(ws);
    outsider = await t.newUser(ws);
    admin = await t.newUser(ws, 'admin');
    const other = await t.newWorkspace('Other');
    stranger = await t.newUser(other);
    strangerAdmin = await t.newUser(other, 'admin');
  });
  afterAll(() => t.close());

  const post = (user: TestUser, channel: string, text = 'hi', extra: Record<string, string> = {}) =>
    t.api('chat.postMessage', user.token, { channel, text, ...extra });

  describe('a private channel', () => {
    let channel: string;
    let parentTs: string;

    beforeAll(async () => {
      channel = await t.newChannel(owner, 'secret-plans', true, [member]);
      parentTs = (await post(member, channel, 'the plan')).body.ts;
      await post(owner, channel, 'a reply', { thread_ts: parentTs });
    });

    it('is readable and writable by its members', async () => {
      expect((await t.api('conversations.history', member.token, { channel })).body.messages.map((m: any) => m.text)).toEqual(['the plan']);
      expect((await post(member, channel)).body.ok).toBe(true);
    });

    it.each([
      ['conversations.history', {}],
      ['conversations.replies', { ts: 'PARENT' }],
      ['conversations.info', {}],
      ['conversations.members', {}],
      ['conversations.join', {}],
      ['conversations.invite', { users: 'OWNER' }],
      ['conversations.mark', { ts: 'PARENT' }],
      ['chat.postMessage', { text: 'let me in' }],
      ['chat.update', { ts: 'PARENT', text: 'defaced' }],
      ['chat.delete', { ts: 'PARENT' }],
    ])(
      '%s by a non-member (same workspace, its admin, another workspace) is channel_not_found and writes nothing',
      async (method, args) => {
        const resolved = Object.fromEntries(
          Object.entries(args).map(([k, v]) => [k, v === 'PARENT' ? parentTs : v === 'OWNER' ? owner.id : v]),
        );
        for (const user of [outsider, admin, stranger]) {
          const before = await t.tableCounts();
          const res = await t.api(method, user.token, { channel, ...resolved });
          expect({ user: user.id, body: res.body }).toEqual({ user: user.id, body: { ok: false, error: 'channel_not_found' } });
          expect(await t.tableCounts()).toEqual(before);
        }
      },
    );

    it('is not listed to a non-member', async () => {
      const list = async (user: TestUser) =>
        (await t.api('conversations.list', user.token, { types: 'public_channel,private_channel', limit: 1000 })).body.channels.map(
          (c: any) => c.id,
        );
      expect(await list(member)).toContain(channel);
      expect(await list(outsider)).not.toContain(channel);
      expect(await list(stranger)).not.toContain(channel);
    });

    it('stops being readable once the member leaves', async () => {
      const leaver = await t.newUser(ws);
      const ch = await t.newChannel(owner, 'short-stay', true, [leaver]);
      expect((await t.api('conversations.history', leaver.token, { channel: ch })).body.ok).toBe(true);
      expect((await t.api('conversations.leave', leaver.token, { channel: ch })).body.ok).toBe(true);
      expect((await t.api('conversations.history', leaver.token, { channel: ch })).body).toEqual({ ok: false, error: 'channel_not_found' });
      expect((await post(leaver, ch)).body).toEqual({ ok: false, error: 'channel_not_found' });
    });
  });

  describe('a public channel', () => {
    let channel: string;

    beforeAll(async () => {
      channel = await t.newChannel(owner, 'town-square', false, [member]);
      await post(owner, channel, 'welcome');
    });

    it('lets a non-member read history, info and members', async () => {
      const history = await t.api('conversations.history', outsider.token, { channel });
      expect(history.body.messages.map((m: any) => m.text)).toEqual(['welcome']);
      expect((await t.api('conversations.info', outsider.token, { channel })).body.channel).toMatchObject({
        id: channel,
        is_member: false,
      });
      expect((await t.api('conversations.members', outsider.token, { channel })).body.ok).toBe(true);
    });

    it('refuses a post from a non-member with not_in_channel, writing nothing', async () => {
      const before = await t.tableCounts();
      expect((await post(outsider, channel)).body).toEqual({ ok: false, error: 'not_in_channel' });
      expect(await t.tableCounts()).toEqual(before);
    });

    it('lets the non-member post after joining', async () => {
      const joiner = await t.newUser(ws);
      expect((await t.api('conversations.join', joiner.token, { channel })).body.ok).toBe(true);
      expect((await post(joiner, channel)).body.ok).toBe(true);
    });

    it('is channel_not_found for every method from another workspace', async () => {
      for (const [method, args] of [
        ['conversations.history', {}],
        ['conversations.info', {}],
        ['conversations.members', {}],
        ['conversations.join', {}],
        ['chat.postMessage', { text: 'hello from elsewhere' }],
      ] as const) {
        const before = await t.tableCounts();
        for (const user of [stranger, strangerAdmin]) {
          expect({ method, body: (await t.api(method, user.token, { channel, ...args })).body }).toEqual({
            method,
            body: { ok: false, error: 'channel_not_found' },
          });
        }
        expect(await t.tableCounts()).toEqual(before);
      }
    });

    it('only the creator or a workspace admin may kick', async () => {
      const [target, second] = [await t.newUser(ws), await t.newUser(ws)];
      const ch = await t.newChannel(owner, 'kickable', false, [member, target, second, admin]);
      const before = await t.tableCounts();
      expect((await t.api('conversations.kick', member.token, { channel: ch, user: target.id })).body).toEqual({
        ok: false,
        error: 'restricted_action',
      });
      expect(await t.tableCounts()).toEqual(before);
      // A workspace admin who did not create the channel.
      expect((await t.api('conversations.kick', admin.token, { channel: ch, user: target.id })).body).toEqual({ ok: true });
      expect((await post(target, ch)).body).toEqual({ ok: false, error: 'not_in_channel' });
      // The creator, who is not a workspace admin.
      expect((await t.api('conversations.kick', owner.token, { channel: ch, user: second.id })).body).toEqual({ ok: true });
      expect((await post(second, ch)).body).toEqual({ ok: false, error: 'not_in_channel' });
    });
  });

  describe('an archived channel', () => {
    it('refuses posts with is_archived but stays readable', async () => {
      const channel = await t.newChannel(owner, 'old-news', false, [member]);
      const ts = (await post(member, channel, 'before archive')).body.ts;
      expect((await t.api('conversations.archive', owner.token, { channel })).body.ok).toBe(true);
      const before = await t.tableCounts();
      for (const user of [owner, member]) expect((await post(user, channel)).body).toEqual({ ok: false, error: 'is_archived' });
      expect((await post(member, channel, 'late reply', { thread_ts: ts })).body).toEqual({ ok: false, error: 'is_archived' });
      expect((await t.api('chat.update', member.token, { channel, ts, text: 'changed' })).body).toEqual({
        ok: false,
        error: 'is_archived',
      });
      expect((await t.api('conversations.join', outsider.token, { channel })).body).toEqual({ ok: false, error: 'is_archived' });
      expect((await t.api('conversations.archive', owner.token, { channel })).body).toEqual({ ok: false, error: 'already_archived' });
      expect(await t.tableCounts()).toEqual(before);
      const history = await t.api('conversations.history', member.token, { channel });
      expect(history.body.messages.map((m: any) => m.text)).toEqual(['before archive']);
    });
  });

  describe('editing and deleting', () => {
    let channel: string;
    beforeAll(async () => (channel = await t.newChannel(owner, 'edits', false, [member, outsider, admin])));

    it('a member may not update or delete another member’s message', async () => {
      const ts = (await post(member, channel, 'mine')).body.ts;
      const before = await t.tableCounts();
      expect((await t.api('chat.update', outsider.token, { channel, ts, text: 'yours now' })).body).toEqual({
        ok: false,
        error: 'cant_update_message',
      });
      expect((await t.api('chat.delete', outsider.token, { channel, ts })).body).toEqual({ ok: false, error: 'cant_delete_message' });
      // The channel's creator is not a moderator either.
      expect((await t.api('chat.delete', owner.token, { channel, ts })).body).toEqual({ ok: false, error: 'cant_delete_message' });
      expect(await t.tableCounts()).toEqual(before);
      const history = await t.api('conversations.history', member.token, { channel, limit: 1 });
      expect(history.body.messages[0]).toEqual({ type: 'message', user: member.id, text: 'mine', ts });
    });

    it('the author may update and delete their own message', async () => {
      const ts = (await post(member, channel, 'draft')).body.ts;
      const updated = await t.api('chat.update', member.token, { channel, ts, text: 'final' });
      expect(updated.body).toMatchObject({ ok: true, channel, ts, text: 'final' });
      expect((await t.api('chat.delete', member.token, { channel, ts })).body).toMatchObject({ ok: true, channel, ts });
    });

    it('a workspace admin may update and delete anyone’s message; another workspace’s admin may not', async () => {
      const ts = (await post(member, channel, 'spam')).body.ts;
      expect((await t.api('chat.update', strangerAdmin.token, { channel, ts, text: 'x' })).body).toEqual({
        ok: false,
        error: 'channel_not_found',
      });
      expect((await t.api('chat.delete', strangerAdmin.token, { channel, ts })).body).toEqual({ ok: false, error: 'channel_not_found' });
      const updated = await t.api('chat.update', admin.token, { channel, ts, text: '[removed by admin]' });
      expect(updated.body).toMatchObject({
        ok: true,
        message: { user: member.id, text: '[removed by admin]', edited: { user: admin.id } },
      });
      expect((await t.api('chat.delete', admin.token, { channel, ts })).body.ok).toBe(true);
    });

    it('a deleted message’s text is gone from history, replies, the event stream and the messages table', async () => {
      const secret = 'the launch code is 0000';
      const parent = (await post(member, channel, `${secret} (parent)`)).body.ts;
      const reply = (await post(member, channel, `${secret} (reply)`, { thread_ts: parent })).body.ts;
      const broadcast = (await post(member, channel, `${secret} (broadcast)`, { thread_ts: parent, reply_broadcast: 'true' })).body.ts;
      expect((await t.api('chat.update', member.token, { channel, ts: reply, text: `${secret} (edited reply)` })).body.ok).toBe(true);

      for (const ts of [reply, broadcast]) expect((await t.api('chat.delete', member.token, { channel, ts })).body.ok).toBe(true);
      const replies = await t.api('conversations.replies', member.token, { channel, ts: parent });
      expect(replies.body.messages.map((m: any) => m.ts)).toEqual([parent]);
      expect(JSON.stringify(replies.body)).not.toMatch(/reply\)|broadcast\)/);
      // The thread summary forgets the deleted replies.
      expect(replies.body.messages[0].reply_count).toBeUndefined();
      expect(replies.body.messages[0].latest_reply).toBeUndefined();

      expect((await t.api('chat.delete', member.token, { channel, ts: parent })).body.ok).toBe(true);
      const history = await t.api('conversations.history', member.token, { channel, limit: 1000 });
      expect(history.body.messages.map((m: any) => m.ts)).not.toContain(parent);
      expect((await t.api('conversations.replies', member.token, { channel, ts: parent })).body).toEqual({
        ok: false,
        error: 'thread_not_found',
      });
      expect((await t.api('chat.update', member.token, { channel, ts: parent, text: 'back' })).body).toEqual({
        ok: false,
        error: 'message_not_found',
      });
      expect((await t.api('chat.delete', member.token, { channel, ts: parent })).body).toEqual({ ok: false, error: 'message_not_found' });

      expect(JSON.stringify(history.body)).not.toContain(secret);
      const events = await t.app.get(EventStore).readChannel(channel, 0, 10_000);
      const deletedTs = events.filter((e) => e.type === 'message_deleted').map((e) => e.deleted_ts);
      expect(deletedTs).toEqual(expect.arrayContaining([parent, reply, broadcast]));
      expect(JSON.stringify(events)).not.toContain(secret);

      const { rows } = await t.pool.query('SELECT ts::text, text, deleted FROM messages WHERE channel_id = $1 AND ts = ANY($2::bigint[])', [
        channel,
        [parent, reply, broadcast].map((ts) => ts.replace('.', '')),
      ]);
      expect(rows).toHaveLength(3);
      for (const row of rows) expect(row).toMatchObject({ text: null, deleted: true });
    });
  });

  describe('the admin API', () => {
    const adminCall = async (method: string, path: string, token: string | undefined, body?: unknown) => {
      const res = await fetch(`${t.url}/admin/v1${path}`, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, body: (await res.json()) as Record<string, any> };
    };

    it('refuses requests without a token (401) or with a bad one (401)', async () => {
      for (const token of [undefined, 'xoxp-000000000000-00000000000000000000000000000000', 'not-a-token']) {
        const before = await t.tableCounts();
        expect((await adminCall('GET', `/workspaces/${ws}`, token)).status).toBe(401);
        expect((await adminCall('POST', `/workspaces/${ws}/users`, token, { name: 'mallory', role: 'admin' })).status).toBe(401);
        expect((await adminCall('POST', '/workspaces', token, { name: 'Evil' })).status).toBe(401);
        expect(await t.tableCounts()).toEqual(before);
      }
    });

    it('refuses a member token (403) on every route', async () => {
      const before = await t.tableCounts();
      expect((await adminCall('GET', `/workspaces/${ws}`, member.token)).status).toBe(403);
      expect((await adminCall('GET', `/workspaces/${ws}/users`, member.token)).status).toBe(403);
      expect((await adminCall('POST', `/workspaces/${ws}/users`, member.token, { name: 'mallory', role: 'admin' })).status).toBe(403);
      expect((await adminCall('POST', '/workspaces', member.token, { name: 'Evil' })).status).toBe(403);
      expect(await t.tableCounts()).toEqual(before);
    });

    it('lets a workspace admin manage its own workspace only', async () => {
      expect((await adminCall('GET', `/workspaces/${ws}`, admin.token)).body).toMatchObject({ id: ws, name: 'Acme' });
      const created = await adminCall('POST', `/workspaces/${ws}/users`, admin.token, { name: 'newcomer', role: 'member' });
      expect(created.status).toBe(201);
      expect(created.body.token).toMatch(/^xoxp-/);
      expect((await t.api('auth.test', created.body.token)).body).toMatchObject({ ok: true, team_id: ws, user: 'newcomer' });

      const before = await t.tableCounts();
      const other = stranger.workspace;
      expect((await adminCall('GET', `/workspaces/${other}`, admin.token)).status).toBe(403);
      expect((await adminCall('GET', `/workspaces/${other}/users`, admin.token)).status).toBe(403);
      expect((await adminCall('POST', `/workspaces/${other}/users`, admin.token, { name: 'mole', role: 'admin' })).status).toBe(403);
      expect((await adminCall('POST', '/workspaces', admin.token, { name: 'Mine' })).status).toBe(403);
      expect(await t.tableCounts()).toEqual(before);
    });

    it('lets the operator token administer every workspace', async () => {
      for (const id of [ws, stranger.workspace]) {
        expect((await adminCall('GET', `/workspaces/${id}`, OPERATOR_TOKEN)).status).toBe(200);
        const users = await adminCall('GET', `/workspaces/${id}/users`, OPERATOR_TOKEN);
        expect(users.status).toBe(200);
        expect(users.body.users.length).toBeGreaterThan(0);
      }
      const created = await adminCall('POST', '/workspaces', OPERATOR_TOKEN, { name: 'Fresh' });
      expect(created.status).toBe(201);
      expect(
        (await adminCall('POST', `/workspaces/${created.body.id}/users`, OPERATOR_TOKEN, { name: 'first', role: 'admin' })).status,
      ).toBe(201);
    });

    describe('every admin route', () => {
      let channel: string;
      beforeAll(async () => (channel = await t.newChannel(owner, 'admin-routes')));

      // [method, path, body or null]; WS and CH stand for the workspace and a channel of it. Every row has
      // all three: with a shorter row jest would hand its `done` callback to the test as `body`.
      const routes: Array<[string, string, unknown]> = [
        ['GET', '/workspaces/WS', null],
        ['GET', '/workspaces/WS/users', null],
        ['POST', '/workspaces/WS/users', { name: 'intruder', role: 'admin' }],
        ['GET', '/workspaces/WS/retention', null],
        ['PUT', '/workspaces/WS/retention', { keep_days: 1 }],
        ['PUT', '/workspaces/WS/channels/CH/retention', { keep_days: 1 }],
        ['DELETE', '/workspaces/WS/channels/CH/retention', null],
        ['POST', '/workspaces/WS/retention/runs', null],
        ['GET', '/workspaces/WS/retention/runs/1', null],
        ['GET', '/workspaces/WS/ekm', null],
        ['POST', '/workspaces/WS/ekm', { provider: 'local' }],
        ['POST', '/workspaces/WS/ekm/rotate', {}],
        ['POST', '/workspaces/WS/ekm/revocations', {}],
        ['DELETE', '/workspaces/WS/ekm/revocations/1', null],
        ['GET', '/workspaces/WS/ekm/runs/1', null],
        ['GET', '/workspaces/WS/audit', null],
      ];
      const call = (method: string, path: string, token: string | undefined, body?: unknown) =>
        // Replace whole words, not substrings: a workspace id may itself contain "CH".
        adminCall(method, path.replace(/\bWS\b/, ws).replace(/\bCH\b/, channel), token, body);

      it.each(routes)('%s %s: 401 without a token, 403 for a member and for another workspace’s admin', async (method, path, body) => {
        const before = await t.tableCounts();
        expect((await call(method, path, undefined, body)).status).toBe(401);
        expect((await call(method, path, member.token, body)).status).toBe(403);
        expect((await call(method, path, strangerAdmin.token, body)).status).toBe(403);
        expect(await t.tableCounts()).toEqual(before);
      });

      it('refused writes changed no setting', async () => {
        expect((await call('GET', '/workspaces/WS/retention', OPERATOR_TOKEN)).body).toEqual({
          workspace: { keep_days: null },
          channels: [],
        });
        expect((await call('GET', '/workspaces/WS/ekm', OPERATOR_TOKEN)).body).toMatchObject({ enabled: false, revocations: [] });
        // The audit trail holds the attempts of the member and the other workspace's admin, every one refused.
        const trail = (await call('GET', '/workspaces/WS/audit?limit=1000', OPERATOR_TOKEN)).body.entries as {
          actor: string;
          outcome: string;
        }[];
        const attempts = trail.filter((e) => e.actor === member.id || e.actor === strangerAdmin.id);
        expect(attempts.length).toBeGreaterThanOrEqual(routes.length);
        expect(attempts.every((e) => e.outcome === 'refused')).toBe(true);
      });

      it('the queue overview is the operator’s alone', async () => {
        expect((await adminCall('GET', '/jobs', admin.token)).status).toBe(403);
        expect((await adminCall('GET', '/jobs', member.token)).status).toBe(403);
      });

      it('replay: members are refused, another workspace’s admin sees neither its channels nor its events', async () => {
        expect((await call('GET', '/channels/CH/events', undefined)).status).toBe(401);
        expect((await call('GET', '/channels/CH/events', member.token)).status).toBe(403);
        expect((await call('GET', '/events', member.token)).status).toBe(403);
        expect((await call('GET', '/channels/CH/events', strangerAdmin.token)).status).toBe(404);
        expect((await call('GET', '/events?workspace=WS', strangerAdmin.token)).status).toBe(403);
        const res = await fetch(`${t.url}/admin/v1/events`, { headers: { authorization: `Bearer ${strangerAdmin.token}` } });
        expect(res.status).toBe(200);
        expect(await res.text()).not.toContain(channel);
      });
    });

    it('the operator token is not a Slack API token', async () => {
      expect((await t.api('auth.test', OPERATOR_TOKEN)).body).toEqual({ ok: false, error: 'invalid_auth' });
    });
  });
});
