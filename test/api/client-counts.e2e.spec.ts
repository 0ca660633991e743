import { formatTs } from '../../src/domain/ts.js';
import { ProjectorService } from '../../src/projections/projector.service.js';
import { type ChannelCounts, UnreadCountsRepository } from '../../src/projections/unread/unread-counts.repository.js';
import { TestApp, type TestUser } from '../support/test-app.js';

// client.counts sends entries the database wrote as JSON. This holds them to the answer built from
// UnreadCountsRepository.forUser (what conversations.info, client.boot and the socket's `counts`
// read), byte for byte, over a sidebar with every kind of entry: unread with mentions, read ahead
// and behind, never posted, thread replies, a DM and a group DM, an archived channel, a channel left.
describe('client.counts answers exactly what forUser counts', () => {
  let t: TestApp;
  let ada: TestUser;
  let bob: TestUser;
  let cat: TestUser;

  beforeAll(async () => {
    t = await TestApp.start();
    const ws = await t.newWorkspace();
    [ada, bob, cat] = [await t.newUser(ws), await t.newUser(ws), await t.newUser(ws)];
  });
  afterAll(() => t.close());

  const ok = async (method: string, user: TestUser, args: Record<string, string | number | boolean>) => {
    const res = await t.api(method, user.token, args);
    if (!res.body.ok) throw new Error(`${method}: ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const raw = async (user: TestUser, args: Record<string, string> = {}) => {
    const res = await t.apiText('client.counts', user.token, args);
    expect([res.status, res.headers.get('content-type')]).toEqual([200, 'application/json; charset=utf-8']);
    return res.text;
  };
  // The answer as the controller built it from ChannelCounts objects before entries came as JSON.
  const built = (counts: ChannelCounts[], nextCursor: string) => {
    const entry = (c: ChannelCounts) => ({
      id: c.channel,
      last_read: formatTs(c.lastRead),
      latest: c.latest === null ? null : formatTs(c.latest),
      latest_seq: c.headSeq,
      unread_count: c.unread,
      mention_count: c.mentions,
      has_unreads: c.unread > 0,
    });
    return JSON.stringify({
      ok: true,
      channels: counts.filter((c) => c.kind === 'channel').map(entry),
      mpims: counts.filter((c) => c.kind === 'mpim').map(entry),
      ims: counts.filter((c) => c.kind === 'im').map(entry),
      response_metadata: { next_cursor: nextCursor },
    });
  };

  it('every kind of sidebar entry, whole and in pages', async () => {
    const post = async (by: TestUser, channel: string, text: string, extra: Record<string, string | boolean> = {}) =>
      (await ok('chat.postMessage', by, { channel, text, ...extra })).ts as string;
    const busy = await t.newChannel(ada, 'busy', false, [bob, cat]);
    const root = await post(ada, busy, `hello <@${bob.id}>`);
    await post(cat, busy, 'quiet reply', { thread_ts: root });
    await post(cat, busy, '<!here> broadcast reply', { thread_ts: root, reply_broadcast: true });
    const own = await post(bob, busy, 'my own');
    const read = await t.newChannel(ada, 'read', true, [bob]);
    const last = await post(ada, read, 'seen');
    await ok('conversations.mark', bob, { channel: read, ts: last });
    const behind = await t.newChannel(ada, 'behind', false, [bob]);
    const first = await post(ada, behind, 'one');
    await post(ada, behind, '<!channel> two');
    await ok('conversations.mark', bob, { channel: behind, ts: first });
    const silent = await t.newChannel(ada, 'silent', false, [bob]);
    const archived = await t.newChannel(ada, 'archived', false, [bob]);
    await post(ada, archived, 'last words');
    await ok('conversations.archive', ada, { channel: archived });
    const left = await t.newChannel(ada, 'left', false, [bob]);
    await post(ada, left, 'unread, then left');
    await ok('conversations.leave', bob, { channel: left });
    const im = (await ok('conversations.open', ada, { users: bob.id })).channel.id as string;
    await post(ada, im, 'psst');
    await post(ada, im, 'still there?');
    const mpim = (await ok('conversations.open', ada, { users: `${bob.id},${cat.id}` })).channel.id as string;
    await post(cat, mpim, 'all three of us');
    await t.app.get(ProjectorService).catchUp();

    const counts = await t.app.get(UnreadCountsRepository).forUser(bob.id);
    expect(counts.map((c) => c.channel)).toEqual([busy, read, behind, silent, archived, im, mpim].sort());
    const text = await raw(bob);
    expect(text).toBe(built(counts, ''));
    const answer = JSON.parse(text) as Record<'channels' | 'ims' | 'mpims', Array<Record<string, unknown>>>;
    expect(answer.channels.find((c) => c.id === busy)).toMatchObject({ unread_count: 2, mention_count: 2, has_unreads: true });
    expect(answer.channels.find((c) => c.id === read)).toMatchObject({ last_read: last, latest: last, unread_count: 0 });
    expect(answer.channels.find((c) => c.id === behind)).toMatchObject({ last_read: first, unread_count: 1, mention_count: 1 });
    expect(answer.channels.some((c) => c.id === left)).toBe(false);
    expect(answer.ims).toEqual([expect.objectContaining({ id: im, unread_count: 2, mention_count: 2 })]);
    expect(answer.mpims).toEqual([expect.objectContaining({ id: mpim, unread_count: 1, mention_count: 1 })]);
    expect(answer.channels.find((c) => c.id === busy)).toMatchObject({ latest: own }); // own messages are the newest, not unread
    expect(answer.channels.find((c) => c.id === silent)).toMatchObject({ latest: null, last_read: '0.000000', unread_count: 0 });

    // Pages of two: each is the answer built from that page's counts, with the cursor to the next.
    const pages: string[] = [];
    for (let cursor = ''; ;) {
      const page = await raw(bob, { limit: '2', ...(cursor ? { cursor } : {}) });
      const next = (JSON.parse(page) as { response_metadata: { next_cursor: string } }).response_metadata.next_cursor;
      const start = pages.length * 2;
      expect(page).toBe(built(counts.slice(start, start + 2), next));
      pages.push(page);
      if (!next) break;
      cursor = next;
    }
    expect(pages.length).toBe(Math.ceil(counts.length / 2));
  });
});
