import { WebClient } from '@slack/web-api';
import { TestClient, waitFor } from '../realtime/support.js';
import { TestApp, type TestUser } from '../support/test-app.js';

// Issue 10 item 1: DMs and group DMs are private conversations with fixed members, created once per
// set of people, that nobody outside can read, mark, react or sync into (workspace admins included).

describe('DMs and group DMs', () => {
  let t: TestApp;
  let ws: string;
  let ada: TestUser;
  let bob: TestUser;
  let cyd: TestUser;
  let carol: TestUser; // a workspace admin, outside every DM below

  beforeAll(async () => {
    t = await TestApp.start();
    ws = await t.newWorkspace();
    [ada, bob, cyd, carol] = await Promise.all([t.newUser(ws), t.newUser(ws), t.newUser(ws), t.newUser(ws, 'admin')]);
  });
  afterAll(() => t.close());

  const clientFor = (user: TestUser) => new WebClient(user.token, { slackApiUrl: `${t.url}/api/`, retryConfig: { retries: 0 } });
  const open = (user: TestUser, users: string, extra: Record<string, string | boolean> = {}) =>
    t.api('conversations.open', user.token, { users, ...extra });

  it('20 concurrent opens by both people of one pair make one conversation', async () => {
    const [p, q] = await Promise.all([t.newUser(ws), t.newUser(ws)]);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? open(p, q.id) : open(q, p.id))));
    expect(answers.every((a) => a.body.ok)).toBe(true);
    const ids = new Set(answers.map((a) => a.body.channel.id));
    expect(ids.size).toBe(1);
    const [id] = ids;
    expect(id).toMatch(/^D/);
    const { rows } = await t.pool.query('SELECT id FROM channels WHERE member_key = $1', [[p.id, q.id].sort().join(',')]);
    expect(rows).toEqual([{ id }]);
    const events = await t.pool.query('SELECT type, user_id FROM events WHERE channel_id = $1 ORDER BY seq', [id]);
    expect(events.rows.map((e) => e.type)).toEqual(['channel_created', 'member_joined_channel', 'member_joined_channel']);
  });

  it('answers Slack’s errors for bad user lists and writes nothing', async () => {
    const before = await t.tableCounts();
    expect((await t.api('conversations.open', ada.token, {})).body.error).toBe('users_list_not_supplied');
    expect((await open(ada, 'UNOBODY')).body.error).toBe('user_not_found');
    const nine = await Promise.all(Array.from({ length: 9 }, () => t.newUser(ws)));
    const counts = await t.tableCounts();
    expect((await open(ada, nine.map((u) => u.id).join(','))).body.error).toBe('too_many_users');
    expect(await t.tableCounts()).toEqual(counts);
    const elsewhere = await t.newUser(await t.newWorkspace('Other'));
    expect((await open(ada, elsewhere.id)).body.error).toBe('user_not_found');
    expect((await t.tableCounts()).channels).toBe(before.channels);
  });

  it('a DM end to end: official client, a socket, counts as mentions, fixed members, close and reopen', async () => {
    const adaSlack = clientFor(ada);
    const bobSocket = await new TestClient(bob, t.url).connect();
    try {
      const opened = await adaSlack.conversations.open({ users: bob.id, return_im: true });
      const dm = opened.channel!.id!;
      expect(opened.channel).toMatchObject({ id: dm, is_im: true, is_mpim: false, is_private: true, user: bob.id });
      // Bob's open socket follows the new conversation from its creation on.
      await waitFor(() => bobSocket.events.some((e) => e.channel === dm && e.type === 'member_joined_channel' && e.user === bob.id));
      const posted = await adaSlack.chat.postMessage({ channel: dm, text: 'psst' });
      await waitFor(() => bobSocket.events.some((e) => e.channel === dm && e.type === 'message'));
      expect(bobSocket.events.find((e) => e.channel === dm && e.type === 'message')).toMatchObject({ text: 'psst', user: ada.id });

      const bobSlack = clientFor(bob);
      expect((await bobSlack.conversations.history({ channel: dm })).messages!.map((m) => m.text)).toEqual(['psst']);
      const again = await bobSlack.conversations.open({ users: ada.id });
      expect(again).toMatchObject({ channel: { id: dm }, already_open: true });
      // Every unread message of a DM counts as a mention.
      await waitFor(async () => {
        const counts = (await t.api('client.counts', bob.token)).body;
        return counts.ims.some((c: { id: string; mention_count: number }) => c.id === dm && c.mention_count === 1);
      });
      await bobSlack.conversations.mark({ channel: dm, ts: posted.ts! });
      const listed = await bobSlack.conversations.list({ types: 'im,mpim' });
      expect(listed.channels).toEqual([expect.objectContaining({ id: dm, is_im: true, user: ada.id })]);
      const mine = await bobSlack.users.conversations({ types: 'public_channel,im', limit: 1 });
      expect(mine.channels!.map((c) => c.id)).toEqual([dm]);

      // Members are fixed.
      for (const [method, args] of [
        ['conversations.leave', { channel: dm }],
        ['conversations.invite', { channel: dm, users: cyd.id }],
        ['conversations.kick', { channel: dm, user: ada.id }],
        ['conversations.archive', { channel: dm }],
        ['conversations.rename', { channel: dm, name: 'secret' }],
      ] as const) {
        expect([method, (await t.api(method, bob.token, args)).body.error]).toEqual([method, 'method_not_supported_for_channel_type']);
      }

      expect((await t.api('conversations.close', bob.token, { channel: dm })).body).toEqual({ ok: true });
      expect((await t.api('conversations.close', bob.token, { channel: dm })).body).toEqual({
        ok: true,
        no_op: true,
        already_closed: true,
      });
      expect((await t.api('conversations.open', bob.token, { channel: dm })).body).toEqual({ ok: true, channel: { id: dm } });
    } finally {
      bobSocket.disconnect();
    }
  });

  it('a group DM: the same three people get the same one, in any order, from any of them', async () => {
    const first = await open(ada, `${bob.id},${cyd.id}`);
    expect(first.body.channel).toMatchObject({ is_mpim: true, is_im: false, is_private: true });
    expect(first.body.channel.id).toMatch(/^G/);
    const second = await open(cyd, `${bob.id}, ${ada.id}`);
    expect(second.body.channel.id).toBe(first.body.channel.id);
    const mpim = first.body.channel.id;
    const cydSlack = clientFor(cyd);
    await cydSlack.chat.postMessage({ channel: mpim, text: 'all three' });
    const members = await cydSlack.conversations.members({ channel: mpim });
    expect([...members.members!].sort()).toEqual([ada.id, bob.id, cyd.id].sort());
    expect((await clientFor(bob).conversations.list({ types: 'mpim' })).channels!.map((c) => c.id)).toEqual([mpim]);
    // A DM of two of them is another conversation.
    expect((await open(ada, bob.id)).body.channel.id).not.toBe(mpim);
  });

  it('users.conversations pages through every conversation of any type, another user’s only where shared', async () => {
    const [u, v, w] = await Promise.all([t.newUser(ws), t.newUser(ws), t.newUser(ws)]);
    const publicChannel = await t.newChannel(u, `uc-public-${u.id.toLowerCase()}`);
    const mpim = (await open(u, `${v.id},${w.id}`)).body.channel.id;
    const expected = [
      publicChannel,
      await t.newChannel(u, `uc-private-${u.id.toLowerCase()}`, true),
      (await open(u, v.id)).body.channel.id,
      mpim,
    ].sort();
    const seen: string[] = [];
    let cursor = '';
    do {
      const page = await t.api('users.conversations', u.token, {
        types: 'public_channel,private_channel,im,mpim',
        limit: 1,
        ...(cursor ? { cursor } : {}),
      });
      expect(page.body.channels.length).toBeLessThanOrEqual(1);
      seen.push(...page.body.channels.map((c: { id: string }) => c.id));
      cursor = page.body.response_metadata.next_cursor;
    } while (cursor);
    expect(seen).toEqual(expected);
    // w shares only the group DM with u; the public channel shows to anyone.
    const shared = await t.api('users.conversations', w.token, { user: u.id, types: 'public_channel,private_channel,im,mpim' });
    expect(shared.body.channels.map((c: { id: string }) => c.id).sort()).toEqual([publicChannel, mpim].sort());
    expect((await t.api('users.conversations', u.token, { types: 'dm' })).body.error).toBe('invalid_types');
  });

  it('a third user, a workspace admin, cannot read, mark, react, post or sync into a DM', async () => {
    const dm = (await open(ada, bob.id)).body.channel.id;
    const ts = (await t.api('chat.postMessage', ada.token, { channel: dm, text: 'private' })).body.ts;
    const stranger = await t.newUser(await t.newWorkspace('Elsewhere'), 'admin');
    const before = await t.tableCounts();
    const refusals: Array<readonly [string, Record<string, string>]> = [
      ['conversations.history', { channel: dm }],
      ['conversations.info', { channel: dm }],
      ['conversations.replies', { channel: dm, ts }],
      ['conversations.members', { channel: dm }],
      ['conversations.mark', { channel: dm, ts }],
      ['conversations.join', { channel: dm }],
      ['conversations.open', { channel: dm }],
      ['chat.postMessage', { channel: dm, text: 'let me in' }],
      ['chat.update', { channel: dm, ts, text: 'edited' }],
      ['chat.delete', { channel: dm, ts }],
      ['reactions.add', { channel: dm, timestamp: ts, name: 'eyes' }],
      ['reactions.get', { channel: dm, timestamp: ts }],
      ['pins.add', { channel: dm, timestamp: ts }],
    ];
    for (const [method, args] of refusals) {
      expect([method, (await t.api(method, carol.token, args)).body.error]).toEqual([method, 'channel_not_found']);
    }
    expect((await t.api('conversations.list', carol.token, { types: 'im,mpim' })).body.channels).toEqual([]);
    // Nor can anyone of another workspace who knows the id.
    expect((await t.api('conversations.history', stranger.token, { channel: dm })).body.error).toBe('channel_not_found');
    expect((await t.api('conversations.open', stranger.token, { channel: dm })).body.error).toBe('channel_not_found');
    expect((await t.api('users.conversations', carol.token, { user: ada.id, types: 'im,mpim' })).body.channels).toEqual([]);
    const socket = await new TestClient(carol, t.url).connect();
    try {
      expect(await socket.ack('sync', { cursors: { [dm]: 0 } })).toMatchObject({ ok: true, not_in_channel: [dm] });
      expect((await socket.ack('post', { channel: dm, text: 'socket' })).ok).toBe(false);
      expect(socket.events.some((e) => e.channel === dm)).toBe(false);
    } finally {
      socket.disconnect();
    }
    expect(await t.tableCounts()).toEqual(before);
  });
});
