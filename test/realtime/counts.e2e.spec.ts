import { ProjectorService } from '../../src/projections/projector.service.js';
import { TestApp, type TestUser } from '../support/test-app.js';
import { TestClient, waitFor } from './support.js';

describe('counts pushed to sockets', () => {
  let t: TestApp;
  let ada: TestUser;
  let bob: TestUser;
  beforeAll(async () => {
    t = await TestApp.start();
    const ws = await t.newWorkspace();
    ada = await t.newUser(ws);
    bob = await t.newUser(ws);
  });
  afterAll(() => t.close());

  it('a mark from any device sends fresh counts to every socket of that user, and to no one else', async () => {
    const channel = await t.newChannel(ada, 'general', false, [bob]);
    const phone = await new TestClient(bob, t.url).connect();
    const laptop = await new TestClient(bob, t.url).connect();
    const other = await new TestClient(ada, t.url).connect();
    try {
      const post = async (text: string) => (await t.api('chat.postMessage', ada.token, { channel, text })).body.ts as string;
      const first = await post('hello');
      await post(`<@${bob.id}> look`);
      await post('and this');
      await t.app.get(ProjectorService).catchUp(20_000);

      // Bob reads the first message on his laptop (REST here; the socket `mark` takes the same path).
      expect((await t.api('conversations.mark', bob.token, { channel, ts: first })).body.ok).toBe(true);
      const expected = { channel, unread_count: 2, mention_count: 1 };
      await waitFor(() => phone.counts.length > 0 && laptop.counts.length > 0, 10_000, 'counts on both devices');
      expect(phone.counts).toEqual([expected]);
      expect(laptop.counts).toEqual([expected]);

      // A mark that does not move the marker forward changes nothing and sends nothing.
      await t.api('conversations.mark', bob.token, { channel, ts: '1.000000' });
      await t.api('conversations.mark', ada.token, { channel, ts: first }); // ada's own mark: ada's sockets only
      await waitFor(() => other.counts.length > 0, 10_000, 'counts for ada');
      expect(phone.counts).toHaveLength(1);
    } finally {
      for (const c of [phone, laptop, other]) c.disconnect();
    }
  });

  it('a mark on one node reaches the sockets on another node, from REST and from a socket mark', async () => {
    const channel = await t.newChannel(ada, 'random', false, [bob]);
    const post = async (text: string) => (await t.api('chat.postMessage', ada.token, { channel, text })).body.ts as string;
    const first = await post('one');
    const second = await post(`<@${bob.id}> two`);
    await post('three');
    await t.app.get(ProjectorService).catchUp(20_000);
    // The second node starts once the counts are projected: it only has to deliver them.
    const node2 = await TestApp.start({}, t.db);
    const there = await new TestClient(bob, node2.url).connect();
    const here = await new TestClient(bob, t.url).connect();
    try {
      expect((await t.api('conversations.mark', bob.token, { channel, ts: first })).body.ok).toBe(true);
      await waitFor(() => there.counts.length === 1, 10_000, 'counts on node 2 after a REST mark on node 1');
      expect(there.counts).toEqual([{ channel, unread_count: 2, mention_count: 1 }]);

      expect(await here.ack('mark', { channel, ts: second })).toEqual({ ok: true });
      await waitFor(() => there.counts.length === 2, 10_000, 'counts on node 2 after a socket mark on node 1');
      expect(there.counts[1]).toEqual({ channel, unread_count: 1, mention_count: 0 });
    } finally {
      there.disconnect();
      here.disconnect();
      await node2.close();
    }
  });
});
