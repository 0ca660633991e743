import { ProjectorService } from '../../src/projections/projector.service.js';
import { TestApp, type TestUser } from '../support/test-app.js';
import { createClusterDatabase, startClusterRedis } from './support/cluster.js';

// client.counts and client.boot on a Citus cluster: their counting query (a sub-select per unread
// channel, read channels skipped) must plan across the workers, and answer what it answers on one
// server.
describe('client.counts and client.boot on a Citus cluster', () => {
  let t: TestApp;
  let redis: Awaited<ReturnType<typeof startClusterRedis>> | undefined;
  let ada: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    redis = await startClusterRedis();
    const db = await createClusterDatabase();
    t = await TestApp.start({ ...redis.env, ...(process.env.CLUSTER_LOG ? { LOG_LEVEL: 'warn' } : {}) }, db);
    (t as unknown as { ownsClusterDb: unknown }).ownsClusterDb = db;
    const ws = await t.newWorkspace();
    [ada, bob] = [await t.newUser(ws), await t.newUser(ws)];
  });
  afterAll(async () => {
    await t?.close();
    await redis?.stop();
    await ((t as unknown as { ownsClusterDb?: { drop(): Promise<void> } })?.ownsClusterDb?.drop() ?? Promise.resolve());
  });

  it('read, unread, mentioned, never posted and DM channels, whole and in pages', async () => {
    const ok = async (method: string, user: TestUser, args: Record<string, string | number | boolean>) => {
      const res = await t.api(method, user.token, args);
      if (!res.body.ok) throw new Error(`${method}: ${JSON.stringify(res.body)}`);
      return res.body;
    };
    const channels: string[] = [];
    for (let i = 0; i < 6; i++) channels.push(await t.newChannel(ada, `counts-${i}`, false, [bob]));
    for (const [i, channel] of channels.entries())
      for (let n = 0; n < i; n++) await ok('chat.postMessage', ada, { channel, text: `<@${bob.id}> ${n}` });
    const last = (await ok('chat.postMessage', ada, { channel: channels[5], text: 'newest' })).ts as string;
    await ok('conversations.mark', bob, { channel: channels[5], ts: last });
    const im = (await ok('conversations.open', ada, { users: bob.id })).channel.id as string;
    await ok('chat.postMessage', ada, { channel: im, text: 'psst' });
    await t.app.get(ProjectorService).catchUp();

    const counts = await ok('client.counts', bob, {});
    const unread = Object.fromEntries(
      counts.channels.map((c: { id: string; unread_count: number; mention_count: number }) => [c.id, [c.unread_count, c.mention_count]]),
    );
    expect(channels.map((c) => unread[c])).toEqual([
      [0, 0],
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 4],
      [0, 0],
    ]);
    expect(counts.ims).toEqual([expect.objectContaining({ id: im, unread_count: 1, mention_count: 1 })]);
    const first = await ok('client.counts', bob, { limit: 3 });
    const rest = await ok('client.counts', bob, { limit: 10, cursor: first.response_metadata.next_cursor });
    expect([...first.channels, ...rest.channels]).toEqual(counts.channels);
    const info = await ok('conversations.info', bob, { channel: channels[3] });
    expect(info.channel.unread_count).toBe(3);
    // client.boot's entries come from the same counting query, with the channel rows around them.
    const boot = await ok('client.boot', bob, {});
    expect(boot.channels.map((c: { id: string; name: string }) => [c.id, c.name])).toEqual(
      channels.map((c, i) => [c, `counts-${i}`]).sort(([a], [b]) => (a < b ? -1 : 1)),
    );
    const state = ({ id, last_read, latest, latest_seq, unread_count, mention_count, has_unreads }: Record<string, unknown>) => ({
      id,
      last_read,
      latest,
      latest_seq,
      unread_count,
      mention_count,
      has_unreads,
    });
    expect(boot.channels.map(state)).toEqual(counts.channels);
    expect(boot.ims).toEqual([expect.objectContaining({ id: im, is_im: true, user: ada.id, unread_count: 1, mention_count: 1 })]);
  });
});
