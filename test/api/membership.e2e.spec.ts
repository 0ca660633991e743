import { EventStore } from '../../src/event-store/event-store.js';
import { TestApp, type TestUser } from '../support/test-app.js';

// Membership and channel changes raced against each other: the channel lock makes them take turns,
// so each lands once, in the stream and in the membership view alike.

describe('membership under concurrency', () => {
  let t: TestApp;
  let ws: string;
  let ada: TestUser;

  beforeAll(async () => {
    t = await TestApp.start();
    ws = await t.newWorkspace();
    ada = await t.newUser(ws);
  });
  afterAll(() => t.close());

  const events = (channel: string) => t.app.get(EventStore).readChannel(channel, 0, 10_000);
  const members = async (channel: string) =>
    (
      await t.pool.query<{ user_id: string }>('SELECT user_id FROM channel_members WHERE channel_id = $1 ORDER BY user_id', [channel])
    ).rows.map((r) => r.user_id);

  it('creating the same name 8 times at once makes one channel; the others are name_taken', async () => {
    const answers = await Promise.all(Array.from({ length: 8 }, () => t.api('conversations.create', ada.token, { name: 'race' })));
    const ok = answers.filter((a) => a.body.ok);
    expect(ok).toHaveLength(1);
    expect(answers.filter((a) => !a.body.ok).map((a) => a.body.error)).toEqual(Array(7).fill('name_taken'));
    const { rows } = await t.pool.query("SELECT id FROM channels WHERE workspace_id = $1 AND name = 'race'", [ws]);
    expect(rows).toEqual([{ id: ok[0].body.channel.id }]);
    expect((await events(ok[0].body.channel.id)).map((e) => e.type)).toEqual(['channel_created', 'member_joined_channel']);
  });

  it('one user joining 6 times at once joins once; the rest are told already_in_channel', async () => {
    const channel = await t.newChannel(ada, 'join-race');
    const bob = await t.newUser(ws);
    const answers = await Promise.all(Array.from({ length: 6 }, () => t.api('conversations.join', bob.token, { channel })));
    expect(answers.every((a) => a.body.ok)).toBe(true);
    expect(answers.filter((a) => a.body.warning === 'already_in_channel')).toHaveLength(5);
    expect((await events(channel)).filter((e) => e.type === 'member_joined_channel' && e.user === bob.id)).toHaveLength(1);
    expect(await members(channel)).toEqual([ada.id, bob.id].sort());
  });

  it('concurrent invites, joins and leaves of many users leave the view equal to the stream', async () => {
    const channel = await t.newChannel(ada, 'churn');
    const users = await Promise.all(Array.from({ length: 6 }, () => t.newUser(ws)));
    await Promise.all([
      ...users.map((u) => t.api('conversations.join', u.token, { channel })),
      ...users.map((u) => t.api('conversations.invite', ada.token, { channel, users: u.id })),
      ...users.slice(0, 3).map((u) => t.api('conversations.leave', u.token, { channel })),
    ]);
    // Replaying the stream gives the membership the view holds, and seq has no gap.
    const stream = await events(channel);
    expect(stream.map((e) => e.seq)).toEqual(stream.map((_, i) => i + 1));
    const replayed = new Set<string>();
    for (const e of stream) {
      if (e.type === 'member_joined_channel') replayed.add(e.user!);
      if (e.type === 'member_left_channel') replayed.delete(e.user!);
    }
    expect(await members(channel)).toEqual([...replayed].sort());
    const listed = await t.api('conversations.members', ada.token, { channel, limit: 1000 });
    expect([...listed.body.members].sort()).toEqual([...replayed].sort());
  });

  it('posts racing an archive either land before it or are refused after it', async () => {
    const channel = await t.newChannel(ada, 'closing');
    const answers = await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => t.api('chat.postMessage', ada.token, { channel, text: `p${i}` })),
      t.api('conversations.archive', ada.token, { channel }),
    ]);
    const posts = answers.slice(0, 10);
    expect(answers[10].body.ok).toBe(true);
    for (const p of posts) expect(p.body.ok || p.body.error === 'is_archived').toBe(true);
    const stream = await events(channel);
    const archivedAt = stream.findIndex((e) => e.type === 'channel_archive');
    // Nothing follows the archive in the stream, and every accepted post is before it.
    expect(archivedAt).toBe(stream.length - 1);
    const accepted = posts.filter((p) => p.body.ok).map((p) => p.body.seq);
    expect(
      stream
        .filter((e) => e.type === 'message')
        .map((e) => e.seq)
        .sort((a, b) => a - b),
    ).toEqual(accepted.sort((a, b) => a - b));
  });
});
