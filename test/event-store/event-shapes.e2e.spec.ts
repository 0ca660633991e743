import { EventStore } from '../../src/event-store/event-store.js';
import { TestApp, type TestUser } from '../support/test-app.js';

// Every event type reads back as its payload type of domain/events.ts, field for field: this is
// what sockets, replay and projections receive.

describe('events read back with one payload per type', () => {
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

  it('a channel from creation to archive', async () => {
    const created = await t.api('conversations.create', ada.token, { name: 'lifecycle' });
    const channel: string = created.body.channel.id;
    await t.api('conversations.invite', ada.token, { channel, users: bob.id });
    const parent = (
      await t.api('chat.postMessage', ada.token, { channel, text: 'parent', client_msg_id: '6f1c1f52-62a4-4a8b-9f0e-3c1d2b0a9e11' })
    ).body;
    const reply = (await t.api('chat.postMessage', bob.token, { channel, text: 'reply', thread_ts: parent.ts, reply_broadcast: true }))
      .body;
    await t.api('chat.update', ada.token, { channel, ts: parent.ts, text: 'parent, edited' });
    await t.api('chat.delete', bob.token, { channel, ts: reply.ts });
    await t.api('conversations.kick', ada.token, { channel, user: bob.id });
    await t.api('conversations.archive', ada.token, { channel });

    const ts = expect.stringMatching(/^\d+\.\d{6}$/);
    const events = await t.app.get(EventStore).readChannel(channel, 0, 100);
    expect(events).toEqual([
      { channel, seq: 1, ts, type: 'channel_created', user: ada.id, name: 'lifecycle', is_private: false },
      { channel, seq: 2, ts, type: 'member_joined_channel', user: ada.id },
      { channel, seq: 3, ts, type: 'member_joined_channel', user: bob.id, inviter: ada.id },
      {
        channel,
        seq: 4,
        ts: parent.ts,
        type: 'message',
        user: ada.id,
        text: 'parent, edited',
        client_msg_id: '6f1c1f52-62a4-4a8b-9f0e-3c1d2b0a9e11',
      },
      // The reply's body was deleted since: it reads back as a tombstone.
      { channel, seq: 5, ts: reply.ts, type: 'message', user: bob.id, text: '', thread_ts: parent.ts, subtype: 'tombstone' },
      {
        channel,
        seq: 6,
        ts,
        type: 'message_changed',
        user: ada.id,
        message: expect.objectContaining({
          type: 'message',
          user: ada.id,
          text: 'parent, edited',
          ts: parent.ts,
          edited: { user: ada.id, ts },
        }),
      },
      { channel, seq: 7, ts, type: 'message_deleted', user: bob.id, deleted_ts: reply.ts },
      { channel, seq: 8, ts, type: 'member_left_channel', user: bob.id, kicked_by: ada.id },
      { channel, seq: 9, ts, type: 'channel_archive', user: ada.id },
    ]);
  });
});
