import { ProjectorService } from '../../src/projections/projector.service.js';
import { TestApp, type TestUser } from '../support/test-app.js';

// Each case runs in its own channel with ada, bob and cat as members, performs its steps through the
// Web API, waits for the projector to catch up, and asserts every member's exact counts.
type Name = 'ada' | 'bob' | 'cat';
type Expected = Record<Name, { unread: number; mentions: number }>;

interface Ctx {
  channel: string;
  users: Record<Name, TestUser>;
  post(by: Name, text: string, extra?: Record<string, string | boolean>): Promise<string>;
  edit(by: Name, ts: string, text: string): Promise<void>;
  remove(by: Name, ts: string): Promise<void>;
  mark(by: Name, ts: string): Promise<void>;
}

const n = (unread: number, mentions = 0) => ({ unread, mentions });

const cases: Array<[string, (c: Ctx) => Promise<unknown>, Expected]> = [
  ['nothing posted', async () => {}, { ada: n(0), bob: n(0), cat: n(0) }],
  [
    'own messages are never unread',
    async (c) => {
      await c.post('ada', 'one');
      await c.post('ada', 'two');
    },
    { ada: n(0), bob: n(2), cat: n(2) },
  ],
  [
    'thread replies count only when broadcast to the channel',
    async (c) => {
      const root = await c.post('ada', 'root');
      await c.post('bob', 'quiet reply', { thread_ts: root });
      await c.post('bob', 'broadcast reply', { thread_ts: root, reply_broadcast: true });
    },
    { ada: n(1), bob: n(1), cat: n(2) },
  ],
  [
    'a mention in a thread reply that is not broadcast does not count in the channel',
    async (c) => {
      const root = await c.post('ada', 'root');
      await c.post('ada', 'psst <@bob>', { thread_ts: root });
    },
    { ada: n(0), bob: n(1), cat: n(1) },
  ],
  [
    '<@U> mentions that user only',
    async (c) => {
      await c.post('ada', 'hey <@bob>, and <@bob|bob> again');
    },
    { ada: n(0), bob: n(1, 1), cat: n(1) },
  ],
  [
    '<!channel> and <!everyone> mention every member but the author',
    async (c) => {
      await c.post('ada', '<!channel> deploy at 5');
      await c.post('bob', '<!everyone> lunch');
    },
    { ada: n(1, 1), bob: n(1, 1), cat: n(2, 2) },
  ],
  [
    '<!here> mentions every member but the author',
    async (c) => {
      await c.post('cat', '<!here> standup');
    },
    { ada: n(1, 1), bob: n(1, 1), cat: n(0) },
  ],
  [
    'an edit that adds a mention counts it',
    async (c) => {
      const ts = await c.post('ada', 'hello');
      await c.edit('ada', ts, 'hello <@cat>');
    },
    { ada: n(0), bob: n(1), cat: n(1, 1) },
  ],
  [
    'an edit that removes a mention uncounts it',
    async (c) => {
      const ts = await c.post('ada', 'hello <@cat> and <!here>');
      await c.edit('ada', ts, 'hello everyone');
    },
    { ada: n(0), bob: n(1), cat: n(1) },
  ],
  [
    'an edit after a mark does not make the message unread again',
    async (c) => {
      const ts = await c.post('ada', 'hello');
      await c.mark('bob', ts);
      await c.edit('ada', ts, 'hello <@bob>');
    },
    { ada: n(0), bob: n(0), cat: n(1) },
  ],
  [
    'deleting an unread message uncounts it and its mention',
    async (c) => {
      await c.post('ada', 'kept');
      const ts = await c.post('ada', 'oops <@bob> <!channel>');
      await c.remove('ada', ts);
    },
    { ada: n(0), bob: n(1), cat: n(1) },
  ],
  [
    'deleting a broadcast reply uncounts it',
    async (c) => {
      const root = await c.post('ada', 'root');
      const reply = await c.post('bob', 'also in channel', { thread_ts: root, reply_broadcast: true });
      await c.remove('bob', reply);
    },
    { ada: n(0), bob: n(1), cat: n(1) },
  ],
  [
    'conversations.mark reads up to and including ts',
    async (c) => {
      await c.post('ada', 'one');
      const two = await c.post('ada', 'two <@bob>');
      await c.post('ada', 'three <@bob>');
      await c.mark('bob', two);
      await c.mark('cat', two);
    },
    { ada: n(0), bob: n(1, 1), cat: n(1) },
  ],
  [
    'a mark never moves backwards',
    async (c) => {
      const one = await c.post('ada', 'one');
      const two = await c.post('ada', 'two');
      await c.mark('bob', two);
      await c.mark('bob', one);
    },
    { ada: n(0), bob: n(0), cat: n(2) },
  ],
  [
    'own mentions of oneself and own broadcasts do not count',
    async (c) => {
      await c.post('bob', '<@bob> note to self <!channel>');
    },
    { ada: n(1, 1), bob: n(0), cat: n(1, 1) },
  ],
];

describe('unread and mention counts (client.counts, conversations.info)', () => {
  let t: TestApp;
  let users: Record<Name, TestUser>;
  let projector: ProjectorService;

  beforeAll(async () => {
    t = await TestApp.start();
    projector = t.app.get(ProjectorService);
    const ws = await t.newWorkspace();
    users = { ada: await t.newUser(ws), bob: await t.newUser(ws), cat: await t.newUser(ws) };
  });
  afterAll(() => t.close());

  const ok = async (method: string, user: TestUser, args: Record<string, string | number | boolean>) => {
    const res = await t.api(method, user.token, args);
    if (!res.body.ok) throw new Error(`${method}: ${JSON.stringify(res.body)}`);
    return res.body;
  };
  // Mentions are written with names in the table and sent with the real user ids.
  const markup = (text: string) => text.replace(/<@(ada|bob|cat)([|>])/g, (_, name: Name, end: string) => `<@${users[name].id}${end}`);

  let channelNo = 0;
  it.each(cases)('%s', async (_, steps, expected) => {
    const channel = await t.newChannel(users.ada, `unread-${++channelNo}`, false, [users.bob, users.cat]);
    const ctx: Ctx = {
      channel,
      users,
      post: async (by, text, extra = {}) => (await ok('chat.postMessage', users[by], { channel, text: markup(text), ...extra })).ts,
      edit: async (by, ts, text) => void (await ok('chat.update', users[by], { channel, ts, text: markup(text) })),
      remove: async (by, ts) => void (await ok('chat.delete', users[by], { channel, ts })),
      mark: async (by, ts) => void (await ok('conversations.mark', users[by], { channel, ts })),
    };
    await steps(ctx);
    await projector.catchUp();

    for (const name of ['ada', 'bob', 'cat'] as const) {
      const counts = await ok('client.counts', users[name], {});
      const entry = counts.channels.find((c: { id: string }) => c.id === channel);
      expect({ who: name, unread: entry.unread_count, mentions: entry.mention_count, has_unreads: entry.has_unreads }).toEqual({
        who: name,
        ...expected[name],
        has_unreads: expected[name].unread > 0,
      });
      const info = await ok('conversations.info', users[name], { channel });
      expect({
        who: name,
        unread: info.channel.unread_count,
        display: info.channel.unread_count_display,
        last_read: info.channel.last_read,
      }).toEqual({ who: name, unread: expected[name].unread, display: expected[name].unread, last_read: entry.last_read });
    }
  });

  it('a member who joins later does not inherit the history as unread', async () => {
    const channel = await t.newChannel(users.ada, 'late-joiner', false, [users.bob]);
    await ok('chat.postMessage', users.ada, { channel, text: `before <@${users.cat.id}> <!channel>` });
    await ok('conversations.join', users.cat, { channel });
    await ok('chat.postMessage', users.ada, { channel, text: 'after' });
    await projector.catchUp();
    const counts = await ok('client.counts', users.cat, {});
    expect(counts.channels.find((c: { id: string }) => c.id === channel)).toMatchObject({ unread_count: 1, mention_count: 0 });
  });

  // unread_channels holds the newest countable ts per channel, kept batch by batch: a delete of the
  // newest in a later batch moves it back, and a reader at or past it is skipped without a scan.
  it('latest follows posts, broadcasts and deletes across batches, and a reader at latest has nothing unread', async () => {
    const channel = await t.newChannel(users.ada, 'latest-batches', false, [users.bob, users.cat]);
    const entry = async (who: Name) =>
      (await ok('client.counts', users[who], {})).channels.find((c: { id: string }) => c.id === channel) as {
        latest: string | null;
        unread_count: number;
        mention_count: number;
      };
    const post = async (text: string, extra: Record<string, string | boolean> = {}) =>
      (await ok('chat.postMessage', users.ada, { channel, text: markup(text), ...extra })).ts as string;
    const remove = (ts: string) => ok('chat.delete', users.ada, { channel, ts });

    const first = await post('first');
    const second = await post('second <@bob>');
    await projector.catchUp();
    await ok('conversations.mark', users.bob, { channel, ts: second });
    expect(await entry('bob')).toMatchObject({ latest: second, unread_count: 0, mention_count: 0 });
    expect(await entry('cat')).toMatchObject({ latest: second, unread_count: 2 });

    await remove(second);
    await projector.catchUp();
    expect(await entry('cat')).toMatchObject({ latest: first, unread_count: 1 });
    expect(await entry('bob')).toMatchObject({ latest: first, unread_count: 0 });

    const quiet = await post('in the thread', { thread_ts: first });
    await remove(first);
    await projector.catchUp();
    expect(await entry('cat')).toMatchObject({ latest: null, unread_count: 0 });

    const broadcast = await post('to the channel <@bob>', { thread_ts: first, reply_broadcast: true });
    await ok('chat.update', users.ada, { channel, ts: quiet, text: 'edited reply' });
    await projector.catchUp();
    expect(await entry('bob')).toMatchObject({ latest: broadcast, unread_count: 1, mention_count: 1 });
    expect(await entry('cat')).toMatchObject({ latest: broadcast, unread_count: 1, mention_count: 0 });
  });

  it('unread_channels equals the newest countable ts of unread_messages in every channel', async () => {
    await projector.catchUp();
    const { rows } = await t.pool.query(
      `SELECT coalesce(h.channel_id, r.channel_id) AS channel, h.latest_ts::text AS kept, coalesce(r.newest, 0)::text AS newest
         FROM unread_channels h
         FULL JOIN (SELECT channel_id, max(ts) FILTER (WHERE counts_as_unread AND NOT deleted) AS newest
                      FROM unread_messages GROUP BY channel_id) r ON r.channel_id = h.channel_id`,
    );
    expect(rows.length).toBeGreaterThan(cases.length);
    expect(rows.filter((r) => r.kept !== r.newest)).toEqual([]);
  });

  it('client.counts lists every channel of the caller, in id order, with head seq, last_read and latest', async () => {
    const ws = await t.newWorkspace('Counts');
    const dan = await t.newUser(ws);
    const eve = await t.newUser(ws);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await t.newChannel(dan, `sidebar-${i}`, i === 2, [eve]));
    const posted = await ok('chat.postMessage', dan, { channel: ids[0], text: 'hi' });
    await projector.catchUp();
    const counts = await ok('client.counts', eve, {});
    expect(counts.channels.map((c: { id: string }) => c.id)).toEqual([...ids].sort());
    expect(counts.channels.find((c: { id: string }) => c.id === ids[0])).toEqual({
      id: ids[0],
      last_read: '0.000000',
      latest: posted.ts,
      latest_seq: 4,
      unread_count: 1,
      mention_count: 0,
      has_unreads: true,
    });
    expect(counts.channels.find((c: { id: string }) => c.id === ids[1])).toMatchObject({ latest: null, unread_count: 0 });
    expect(counts.response_metadata).toEqual({ next_cursor: '' });
    // A very large sidebar comes in pages.
    const first = await ok('client.counts', eve, { limit: 2 });
    const rest = await ok('client.counts', eve, { limit: 2, cursor: first.response_metadata.next_cursor });
    expect([...first.channels, ...rest.channels]).toEqual(counts.channels);
    expect([first.channels.length, rest.response_metadata.next_cursor]).toEqual([2, '']);
    expect((await t.api('client.counts', eve.token, { cursor: 'bm90LWEtY3Vyc29y' })).body).toEqual({ ok: false, error: 'invalid_cursor' });
    const outsider = await t.newUser(ws);
    expect((await ok('client.counts', outsider, {})).channels).toEqual([]);
    expect((await t.api('client.counts', undefined)).body).toEqual({ ok: false, error: 'not_authed' });
  });
});
