import { TestApp } from '../support/test-app.js';
import { TestClient, waitFor } from './support.js';

type Changed = { channel: string; seq: number; type: string };

describe('channels.subscribe: channel metadata for the channels a socket has in view', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await TestApp.start();
  });
  afterAll(async () => {
    await t.close();
  });

  it('a non-member subscriber gets the archive of a channel it watches, and nothing of the others', async () => {
    const ws = await t.newWorkspace();
    const other = await t.newWorkspace('Other');
    const [ada, bob] = [await t.newUser(ws), await t.newUser(ws)];
    const stranger = await t.newUser(other);
    const watched = await t.newChannel(ada, 'watched');
    const unwatched = await t.newChannel(ada, 'unwatched');
    const later = await t.newChannel(ada, 'later');
    const secret = await t.newChannel(ada, 'secret', true);
    const foreign = await t.newChannel(stranger, 'foreign');
    const browsing = await new TestClient(bob, t.url).connect();
    const member = await new TestClient(ada, t.url).connect();
    const changed: Changed[] = [];
    const memberChanged: Changed[] = [];
    browsing.socket!.on('channel_changed', (e: Changed) => changed.push(e));
    member.socket!.on('channel_changed', (e: Changed) => memberChanged.push(e));
    try {
      expect(await browsing.ack('channels.subscribe', { channels: [watched, secret, foreign, 'CNOPE'] })).toEqual({
        ok: true,
        channels: [watched],
      });
      expect(await member.ack('channels.subscribe', { channels: [watched] })).toEqual({ ok: true, channels: [watched] });
      expect(await browsing.ack('channels.subscribe', { channels: 'x' })).toEqual({ ok: false, error: 'invalid_arguments' });

      expect((await t.api('conversations.archive', ada.token, { channel: unwatched })).body.ok).toBe(true);
      expect((await t.api('conversations.archive', ada.token, { channel: watched })).body.ok).toBe(true);
      await waitFor(() => changed.length === 1, 10_000, 'channel_changed');
      expect(changed[0]).toMatchObject({ channel: watched, type: 'channel_archive', user: ada.id });
      // The member has it as a stream event, once, and no channel_changed besides.
      await waitFor(() => member.events.some((e) => e.channel === watched && e.type === 'channel_archive'), 10_000, 'member event');

      // Replace the list: the old channel is dropped.
      expect(await browsing.ack('channels.subscribe', { channels: [later] })).toEqual({ ok: true, channels: [later] });
      expect((await t.api('conversations.archive', ada.token, { channel: later })).body.ok).toBe(true);
      await waitFor(() => changed.length === 2, 10_000, 'second channel_changed');
      expect(changed.map((e) => e.channel)).toEqual([watched, later]);
      expect(memberChanged).toEqual([]);
    } finally {
      browsing.disconnect();
      member.disconnect();
    }
  });
});
