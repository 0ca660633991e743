import {
  type ConversationsHistoryResponse,
  type ConversationsListResponse,
  type ConversationsMembersResponse,
  ErrorCode,
  type UsersListResponse,
  WebClient,
} from '@slack/web-api';
import { TestApp, type TestUser } from '../support/test-app.js';

// The official client, pointed at the server unchanged (DESIGN.md: "must work against it unchanged").

describe('@slack/web-api WebClient against atomcast', () => {
  let t: TestApp;
  let ada: TestUser;
  let bob: TestUser;
  let client: WebClient;
  const clientFor = (user: TestUser) => new WebClient(user.token, { slackApiUrl: `${t.url}/api/`, retryConfig: { retries: 0 } });

  beforeAll(async () => {
    t = await TestApp.start();
    const ws = await t.newWorkspace();
    ada = await t.newUser(ws, 'member', 'ada');
    bob = await t.newUser(ws, 'member', 'bob');
    client = clientFor(ada);
  });
  afterAll(() => t.close());

  it('auth.test names the caller and the workspace', async () => {
    const res = await client.auth.test();
    expect(res).toMatchObject({ ok: true, user_id: ada.id, user: 'ada', team_id: ada.workspace, team: 'Acme' });
  });

  it('creates a channel, posts, replies in a thread, edits and deletes', async () => {
    const created = await client.conversations.create({ name: 'client-flow' });
    expect(created.ok).toBe(true);
    const channel = created.channel!.id!;
    expect(created.channel).toMatchObject({ name: 'client-flow', is_private: false, is_member: true, creator: ada.id });

    const parent = await client.chat.postMessage({ channel, text: 'parent' });
    expect(parent).toMatchObject({ ok: true, channel, message: { type: 'message', user: ada.id, text: 'parent', ts: parent.ts } });
    expect(parent.ts).toMatch(/^\d+\.\d{6}$/);

    const reply = await client.chat.postMessage({ channel, text: 'a reply', thread_ts: parent.ts! });
    expect(reply).toMatchObject({ ok: true, channel, message: { text: 'a reply', thread_ts: parent.ts } });
    expect(Number(reply.ts)).toBeGreaterThan(Number(parent.ts));

    const edited = await client.chat.update({ channel, ts: parent.ts!, text: 'parent, edited' });
    expect(edited).toMatchObject({ ok: true, channel, ts: parent.ts, text: 'parent, edited' });

    const replies = await client.conversations.replies({ channel, ts: parent.ts! });
    expect(replies.messages!.map((m) => [m.ts, m.text])).toEqual([
      [parent.ts, 'parent, edited'],
      [reply.ts, 'a reply'],
    ]);
    expect(replies.messages![0]).toMatchObject({ thread_ts: parent.ts, reply_count: 1, latest_reply: reply.ts, edited: { user: ada.id } });
    expect(replies.has_more).toBe(false);

    const deleted = await client.chat.delete({ channel, ts: reply.ts! });
    expect(deleted).toMatchObject({ ok: true, channel, ts: reply.ts });
    const after = await client.conversations.replies({ channel, ts: parent.ts! });
    expect(after.messages!.map((m) => m.ts)).toEqual([parent.ts]);

    const history = await client.conversations.history({ channel });
    expect(history.messages!.map((m) => m.text)).toEqual(['parent, edited']);
  });

  it('pages conversations.history with paginate: all messages, newest first, no duplicates', async () => {
    const channel = (await client.conversations.create({ name: 'paged' })).channel!.id!;
    // Posted straight to the API (not through the client's queue) to keep the setup quick.
    const posted: string[] = [];
    for (let i = 0; i < 250; i++) {
      const res = await t.api('chat.postMessage', ada.token, { channel, text: `m${i}` });
      expect(res.body.ok).toBe(true);
      posted.push(res.body.ts);
    }
    const pages: number[] = [];
    const seen: string[] = [];
    for await (const page of client.paginate('conversations.history', { channel, limit: 100 })) {
      const messages = (page as ConversationsHistoryResponse).messages!;
      pages.push(messages.length);
      seen.push(...messages.map((m) => m.ts!));
    }
    expect(pages).toEqual([100, 100, 50]);
    expect(seen).toEqual([...posted].reverse());
    expect(new Set(seen).size).toBe(250);
  });

  it('lists conversations.members', async () => {
    const channel = (await client.conversations.create({ name: 'members' })).channel!.id!;
    await client.conversations.invite({ channel, users: bob.id });
    const res = await client.conversations.members({ channel });
    expect(res.ok).toBe(true);
    expect([...res.members!].sort()).toEqual([ada.id, bob.id].sort());
    expect(res.response_metadata?.next_cursor).toBe('');

    // Paged one at a time, the client follows the cursor to the end.
    const paged: string[] = [];
    for await (const page of client.paginate('conversations.members', { channel, limit: 1 }))
      paged.push(...(page as ConversationsMembersResponse).members!);
    expect(paged.sort()).toEqual([ada.id, bob.id].sort());
  });

  it('drives the other methods: join, info, list, mark, kick, leave, archive, users', async () => {
    const bobClient = clientFor(bob);
    const channel = (await client.conversations.create({ name: 'the-rest' })).channel!.id!;
    expect((await bobClient.conversations.join({ channel })).channel).toMatchObject({ id: channel, is_member: true });
    const info = await bobClient.conversations.info({ channel, include_num_members: true });
    expect(info.channel).toMatchObject({ id: channel, name: 'the-rest', num_members: 2, is_archived: false });
    // Counting members is O(members): only when asked for, as Slack's include_num_members.
    expect((await bobClient.conversations.info({ channel })).channel).not.toHaveProperty('num_members');

    const listed: string[] = [];
    for await (const page of client.paginate('conversations.list', { types: 'public_channel,private_channel', limit: 2 })) {
      listed.push(...(page as ConversationsListResponse).channels!.map((c) => c.id!));
    }
    expect(listed).toContain(channel);
    expect(new Set(listed).size).toBe(listed.length);

    const ts = (await bobClient.chat.postMessage({ channel, text: 'read me' })).ts!;
    expect((await client.conversations.mark({ channel, ts })).ok).toBe(true);

    expect((await client.conversations.kick({ channel, user: bob.id })).ok).toBe(true);
    expect((await bobClient.conversations.join({ channel })).ok).toBe(true);
    expect((await bobClient.conversations.leave({ channel })).ok).toBe(true);
    expect((await client.conversations.archive({ channel })).ok).toBe(true);
    const archived = await client.chat.postMessage({ channel, text: 'too late' }).catch((e) => e);
    expect(archived.data.error).toBe('is_archived');

    expect((await client.users.info({ user: bob.id })).user).toMatchObject({ id: bob.id, name: 'bob', team_id: bob.workspace });
    const users: string[] = [];
    for await (const page of client.paginate('users.list', { limit: 1 }))
      users.push(...(page as UsersListResponse).members!.map((u) => u.id!));
    expect(users.sort()).toEqual([ada.id, bob.id].sort());
  });

  it('surfaces a refusal as a platform error carrying the Slack code', async () => {
    const err = await client.chat.postMessage({ channel: 'C0000000000', text: 'nowhere' }).catch((e) => e);
    expect(err.code).toBe(ErrorCode.PlatformError);
    expect(err.data).toMatchObject({ ok: false, error: 'channel_not_found' });

    const name = await client.conversations.create({ name: 'Bad Name!' }).catch((e) => e);
    expect(name.data.error).toBe('invalid_name_specials');

    const badToken = new WebClient('xoxp-000000000000-00000000000000000000000000000000', {
      slackApiUrl: `${t.url}/api/`,
      retryConfig: { retries: 0 },
    });
    const auth = await badToken.auth.test().catch((e) => e);
    expect(auth.data.error).toBe('invalid_auth');
  });

  describe('rate limit', () => {
    let limited: TestApp;
    beforeAll(async () => (limited = await TestApp.start({ RATE_LIMIT_PER_MINUTE: '3' })));
    afterAll(() => limited.close());

    it('answers the 4th call in a minute with HTTP 429, Retry-After and ratelimited', async () => {
      const ws = await limited.newWorkspace();
      const user = await limited.newUser(ws);
      // One budget per token across every method (and controller).
      for (const method of ['auth.test', 'conversations.list', 'client.counts'])
        expect((await limited.api(method, user.token)).body.ok).toBe(true);
      const before = await limited.tableCounts();
      const fourth = await limited.api('conversations.create', user.token, { name: 'over-budget' });
      expect(fourth.status).toBe(429);
      expect(fourth.body).toEqual({ ok: false, error: 'ratelimited' });
      expect(await limited.tableCounts()).toEqual(before);
      const retryAfter = Number(fourth.headers.get('retry-after'));
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);

      // The budget is per token: another user is not limited by this one.
      const other = await limited.newUser(ws);
      expect((await limited.api('auth.test', other.token)).body.ok).toBe(true);

      // The official client reads Retry-After (asked to reject rather than wait).
      const rejecting = new WebClient(user.token, {
        slackApiUrl: `${limited.url}/api/`,
        retryConfig: { retries: 0 },
        rejectRateLimitedCalls: true,
      });
      const err = await rejecting.auth.test().catch((e) => e);
      expect(err.code).toBe(ErrorCode.RateLimitedError);
      expect(err.retryAfter).toBeGreaterThanOrEqual(1);
    });
  });
});
