import { TestApp, type TestUser } from '../support/test-app.js';
import { installApp } from '../support/apps.js';

// Slack's chat.postMessage takes a user id as `channel` and posts into the DM with that user,
// opening it when there is none yet, for user and bot tokens alike.
describe('chat.postMessage channel=<user id>', () => {
  let t: TestApp;
  let ws: string;
  let ada: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    t = await TestApp.start({ JOBS_DISPATCHER_ENABLED: 'false' });
    ws = await t.newWorkspace();
    [ada, bob] = await Promise.all([t.newUser(ws), t.newUser(ws)]);
  });
  afterAll(() => t.close());

  it('opens the DM on the first post and posts into the same one after that', async () => {
    const first = await t.api('chat.postMessage', ada.token, { channel: bob.id, text: 'hi Bob' });
    expect(first.body).toMatchObject({ ok: true, message: { text: 'hi Bob', user: ada.id } });
    const dm = first.body.channel as string;
    expect(dm).toMatch(/^D/);
    const second = await t.api('chat.postMessage', ada.token, { channel: bob.id, text: 'again' });
    expect(second.body).toMatchObject({ ok: true, channel: dm });
    // Bob finds both in the DM conversations.open gives him.
    const opened = await t.api('conversations.open', bob.token, { users: ada.id });
    expect(opened.body.channel.id).toBe(dm);
    const history = await t.api('conversations.history', bob.token, { channel: dm });
    expect(history.body.messages.map((m: { text: string }) => m.text)).toEqual(['again', 'hi Bob']);
  });

  it('a bot token posts into its DM with the user', async () => {
    const app = await installApp(t, ws, { name: 'Notifier' });
    const posted = await t.api('chat.postMessage', app.botToken, { channel: ada.id, text: 'your build passed' });
    expect(posted.body).toMatchObject({ ok: true, message: { text: 'your build passed', user: app.botUserId } });
    const history = await t.api('conversations.history', ada.token, { channel: posted.body.channel });
    expect(history.body.messages.map((m: { text: string }) => m.text)).toEqual(['your build passed']);
  });

  it('an unknown user, or one of another workspace, is channel_not_found and writes nothing', async () => {
    const elsewhere = await t.newUser(await t.newWorkspace('Other'));
    const before = await t.tableCounts();
    for (const channel of ['UNOBODY', elsewhere.id]) {
      expect((await t.api('chat.postMessage', ada.token, { channel, text: 'hello?' })).body).toEqual({
        ok: false,
        error: 'channel_not_found',
      });
    }
    expect(await t.tableCounts()).toEqual(before);
  });
});
