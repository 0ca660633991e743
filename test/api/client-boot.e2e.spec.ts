import { mpimName } from '../../src/domain/channel.js';
import { formatTs } from '../../src/domain/ts.js';
import { toSlackUser } from '../../src/domain/user.js';
import { ProjectorService } from '../../src/projections/projector.service.js';
import { type ChannelCounts, UnreadCountsRepository } from '../../src/projections/unread/unread-counts.repository.js';
import { ProfilesService } from '../../src/workspaces/profiles.service.js';
import { TestApp, type TestUser } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

/**
 * A workspace of `users` users (one INSERT ... SELECT generate_series) and a user of it who is a
 * member of `channels` channels (inserted the same way; the channels' streams stay empty).
 */
async function seedWorkspace(t: TestApp, users: number, channels: number): Promise<TestUser> {
  const ws = await t.newWorkspace('Boot');
  const me = await t.newUser(ws, 'member', 'me');
  await t.pool.query(
    `INSERT INTO users (id, workspace_id, name, role)
     SELECT 'U' || $2 || lpad(i::text, 6, '0'), $1, 'u' || i, 'member' FROM generate_series(1, $3) i`,
    [ws, ws.slice(1, 7), users],
  );
  await t.pool.query(
    `INSERT INTO channels (id, workspace_id, name, is_private, creator)
     SELECT 'C' || $2 || lpad(i::text, 5, '0'), $1, 'channel-' || lpad(i::text, 5, '0'), false, $3 FROM generate_series(1, $4) i`,
    [ws, ws.slice(1, 7), me.id, channels],
  );
  await t.pool.query(
    `INSERT INTO channel_members (channel_id, user_id, joined_seq)
     SELECT 'C' || $1 || lpad(i::text, 5, '0'), $2, 0 FROM generate_series(1, $3) i`,
    [ws.slice(1, 7), me.id, channels],
  );
  return { ...me, workspace: ws };
}

describe('client.boot', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await TestApp.start();
  });
  afterAll(async () => {
    await t.close();
  });

  it('self, the workspace and the caller channels with counts; no member lists, no user directory', async () => {
    const ws = await t.newWorkspace();
    const [ada, bob] = [await t.newUser(ws), await t.newUser(ws)];
    const general = await t.newChannel(ada, 'general', false, [bob]);
    const secret = await t.newChannel(bob, 'secret', true);
    await t.api('chat.postMessage', bob.token, { channel: general, text: `hi <@${ada.id}>` });
    // The projector counts asynchronously.
    await waitFor(async () => (await t.api('client.counts', ada.token)).body.channels[0]?.mention_count === 1, 10_000, 'counted');
    const res = await t.api('client.boot', ada.token);
    expect(res.body).toMatchObject({
      ok: true,
      self: { id: ada.id, team_id: ws },
      team: { id: ws, name: 'Acme' },
      ims: [],
      mpims: [],
      response_metadata: { next_cursor: '' },
    });
    expect(res.body.channels).toEqual([
      expect.objectContaining({ id: general, name: 'general', is_member: true, is_private: false, has_unreads: true }),
    ]);
    const counts = await t.api('client.counts', ada.token);
    const { unread_count, mention_count, latest } = counts.body.channels[0];
    expect(res.body.channels[0]).toMatchObject({ unread_count: 1, mention_count: 1 });
    expect(res.body.channels[0]).toMatchObject({ unread_count, mention_count, latest });
    expect(JSON.stringify(res.body)).not.toContain(bob.id);
    expect(JSON.stringify(res.body)).not.toContain(secret);
    expect((await t.api('client.boot', undefined)).body).toEqual({ ok: false, error: 'not_authed' });
    expect((await t.api('client.boot', ada.token, { cursor: 'nope' })).body).toEqual({ ok: false, error: 'invalid_cursor' });
  });

  // client.boot sends entries the database wrote as JSON. This holds them to the answer the app built
  // from UnreadCountsRepository.forUser and the channels' rows before, byte for byte, over a sidebar
  // with every kind of entry, and a topic and purpose that need escaping.
  it('every kind of sidebar entry, byte for byte as built from forUser and the channel rows, whole and in pages', async () => {
    const ws = await t.newWorkspace();
    const [ada, bob, cat] = [await t.newUser(ws), await t.newUser(ws), await t.newUser(ws)];
    const ok = async (method: string, user: TestUser, args: Record<string, string | boolean>) => {
      const res = await t.api(method, user.token, args);
      if (!res.body.ok) throw new Error(`${method}: ${JSON.stringify(res.body)}`);
      return res.body;
    };
    const raw = async (user: TestUser, args: Record<string, string> = {}) => {
      const res = await t.apiText('client.boot', user.token, args);
      expect([res.status, res.headers.get('content-type')]).toEqual([200, 'application/json; charset=utf-8']);
      return res.text;
    };
    const busy = await t.newChannel(ada, 'busy', false, [bob, cat]);
    await ok('conversations.setTopic', ada, { channel: busy, topic: 'say "hi"\n\\ \u00e9t\u00e9 \u{1F600} <tab>\t' });
    await ok('conversations.setPurpose', ada, { channel: busy, purpose: 'a\u0001b' });
    await ok('chat.postMessage', cat, { channel: busy, text: `hello <@${bob.id}>` });
    const secret = await t.newChannel(ada, 'secret', true, [bob]);
    await ok('chat.postMessage', ada, { channel: secret, text: 'psst' });
    const archived = await t.newChannel(ada, 'archived', false, [bob]);
    await ok('conversations.archive', ada, { channel: archived });
    const im = (await ok('conversations.open', ada, { users: bob.id })).channel.id as string;
    await ok('chat.postMessage', ada, { channel: im, text: 'still there?' });
    const mpim = (await ok('conversations.open', ada, { users: `${bob.id},${cat.id}` })).channel.id as string;
    await ok('chat.postMessage', cat, { channel: mpim, text: 'all three of us' });
    await t.app.get(ProjectorService).catchUp();

    const counts = await t.app.get(UnreadCountsRepository).forUser(bob.id);
    expect(counts.map((c) => c.channel)).toEqual([busy, secret, archived, im, mpim].sort());
    const self = toSlackUser((await t.app.get(ProfilesService).find(ws, bob.id))!);
    const { rows } = await t.pool.query('SELECT * FROM channels WHERE id = ANY($1)', [counts.map((c) => c.channel)]);
    const described = new Map(rows.map((r) => [r.id, r]));
    // The answer as the controller built it from ChannelCounts objects and channel rows.
    const built = (page: ChannelCounts[], nextCursor: string) => {
      const channels: unknown[] = [];
      const ims: unknown[] = [];
      const mpims: unknown[] = [];
      for (const c of page) {
        const ch = described.get(c.channel);
        const state = {
          is_member: true,
          created: Math.floor(ch.created_at.getTime() / 1000),
          last_read: formatTs(c.lastRead),
          latest: c.latest === null ? null : formatTs(c.latest),
          latest_seq: c.headSeq,
          unread_count: c.unread,
          mention_count: c.mentions,
          has_unreads: c.unread > 0,
        };
        const members = (ch.member_key ?? '').split(',');
        if (ch.kind === 'im') ims.push({ id: ch.id, is_im: true, user: members.find((u: string) => u !== bob.id) ?? members[0], ...state });
        else if (ch.kind === 'mpim')
          mpims.push({ id: ch.id, is_mpim: true, is_group: true, is_private: true, name: mpimName(members), members, ...state });
        else
          channels.push({
            id: ch.id,
            name: ch.name,
            is_channel: !ch.is_private,
            is_group: ch.is_private,
            is_private: ch.is_private,
            is_archived: ch.is_archived,
            topic: { value: ch.topic },
            purpose: { value: ch.purpose },
            ...state,
          });
      }
      return JSON.stringify({
        ok: true,
        self,
        team: { id: ws, name: 'Acme', domain: ws.toLowerCase() },
        channels,
        ims,
        mpims,
        response_metadata: { next_cursor: nextCursor },
      });
    };
    const text = await raw(bob);
    expect(text).toBe(built(counts, ''));
    const answer = JSON.parse(text);
    expect(answer.channels.find((c: { id: string }) => c.id === busy)).toMatchObject({
      topic: { value: 'say "hi"\n\\ \u00e9t\u00e9 \u{1F600} <tab>\t' },
      purpose: { value: 'a\u0001b' },
      unread_count: 1,
      mention_count: 1,
    });
    expect(answer.channels.find((c: { id: string }) => c.id === secret)).toMatchObject({
      is_private: true,
      is_group: true,
      is_channel: false,
    });
    expect(answer.channels.find((c: { id: string }) => c.id === archived)).toMatchObject({ is_archived: true, latest: null });
    expect(answer.ims).toEqual([expect.objectContaining({ id: im, user: ada.id, unread_count: 1, mention_count: 1 })]);
    expect(answer.mpims).toEqual([expect.objectContaining({ id: mpim, members: [ada.id, bob.id, cat.id].sort(), unread_count: 1 })]);

    // Pages of two: each is the answer built from that page's counts, with the cursor to the next.
    let pages = 0;
    for (let cursor = ''; ; pages++) {
      const page = await raw(bob, { limit: '2', ...(cursor ? { cursor } : {}) });
      const next = (JSON.parse(page) as { response_metadata: { next_cursor: string } }).response_metadata.next_cursor;
      expect(page).toBe(built(counts.slice(pages * 2, pages * 2 + 2), next));
      if (!next) break;
      cursor = next;
    }
    expect(pages + 1).toBe(Math.ceil(counts.length / 2));
  });

  it('stays the same size for a user in 1,000 channels whether the workspace has 10 or 100,000 users', async () => {
    const small = await seedWorkspace(t, 10, 1000);
    const large = await seedWorkspace(t, 100_000, 1000);
    expect((await t.pool.query('SELECT count(*)::int n FROM users WHERE workspace_id = $1', [large.workspace])).rows[0].n).toBe(100_001);
    const bootSmall = await t.api('client.boot', small.token);
    const bootLarge = await t.api('client.boot', large.token);
    expect(bootSmall.body.channels).toHaveLength(1000);
    expect(bootLarge.body.channels).toHaveLength(1000);
    const bytes = (b: unknown) => Buffer.byteLength(JSON.stringify(b));
    // Same shape, ids of the same length: the payload does not grow with the user count at all.
    expect(bytes(bootLarge.body)).toBe(bytes(bootSmall.body));
    expect(bytes(bootLarge.body)).toBeLessThan(400 * 1000);
  });
});
