import { ALL_MESSAGE_EVENTS, type BoltApp, history, httpBolt, installApp, type InstalledApp, startBolt } from '../support/apps.js';
import { freePort } from '../support/free-port.js';
import { TestApp, type TestUser } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

// An unmodified Bolt app with its own HTTP receiver and signature check, pointed at atomcast only
// through clientOptions.slackApiUrl, answers messages and mentions in a channel and a DM.

describe('Bolt (HTTP receiver) against atomcast', () => {
  let t: TestApp;
  let workspace: string;
  let ada: TestUser;
  let installed: InstalledApp;
  let boltApp: BoltApp;
  let port: number;
  const received: string[] = [];

  beforeAll(async () => {
    t = await TestApp.start({ APPS_ALLOW_LOOPBACK: 'true' });
    workspace = await t.newWorkspace();
    ada = await t.newUser(workspace, 'member', 'ada');
    installed = await installApp(t, workspace, { name: 'Greeter', events: ALL_MESSAGE_EVENTS });
    port = await freePort();
    boltApp = httpBolt(t, installed);
    boltApp.message('hello', async ({ message, say }) => {
      received.push(`message:${(message as { text?: string }).text}`);
      await say(`hi <@${(message as { user: string }).user}>`);
    });
    boltApp.event('app_mention', async ({ event, say }) => {
      received.push(`mention:${event.text}`);
      await say({ text: `mentioned by <@${event.user}>`, thread_ts: event.ts });
    });
    await startBolt(boltApp, port);
  });

  afterAll(async () => {
    await boltApp?.stop();
    await t.close();
  });

  it('auth.test and bots.info answer for the bot token as Slack does', async () => {
    const auth = await t.api('auth.test', installed.botToken);
    expect(auth.body).toMatchObject({ ok: true, user_id: installed.botUserId, bot_id: installed.botId, team_id: workspace });
    const info = await t.api('bots.info', ada.token, { bot: installed.botId });
    expect(info.body.bot).toMatchObject({
      id: installed.botId,
      app_id: installed.id,
      user_id: installed.botUserId,
      name: 'Greeter',
      deleted: false,
    });
    const user = await t.api('users.info', ada.token, { user: installed.botUserId });
    expect(user.body.user).toMatchObject({ is_bot: true, profile: { bot_id: installed.botId } });
    expect((await t.api('bots.info', ada.token, { bot: 'BNOPE' })).body).toEqual({ ok: false, error: 'bot_not_found' });
  });

  it('refuses a request URL that does not answer the challenge, and accepts Bolt, which does', async () => {
    const bad = await t.admin('PATCH', `/workspaces/${workspace}/apps/${installed.id}`, {
      request_url: `http://127.0.0.1:${port}/nowhere`,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/^url_verification_failed/);
    const ok = await t.admin('PATCH', `/workspaces/${workspace}/apps/${installed.id}`, {
      request_url: `http://127.0.0.1:${port}/slack/events`,
    });
    expect(ok.status).toBe(200);
    expect(ok.body.app).toMatchObject({ request_url: `http://127.0.0.1:${port}/slack/events`, paused: false });
  });

  it('a bot token follows membership like a user token', async () => {
    const channel = await t.newChannel(ada, 'quiet', true);
    const res = await t.api('chat.postMessage', installed.botToken, { channel, text: 'hi' });
    expect(res.body).toEqual({ ok: false, error: 'channel_not_found' });
  });

  it('answers hello and a mention in a channel, and hello in a DM', async () => {
    const channel = await t.newChannel(ada, 'general', false, [installed.bot]);
    await t.api('chat.postMessage', ada.token, { channel, text: 'hello bot' });
    await waitFor(async () => (await history(t, ada, channel)).some((m) => m.text === `hi <@${ada.id}>`), 15_000, 'the reply to hello');
    const reply = (await history(t, ada, channel)).find((m) => m.text === `hi <@${ada.id}>`)!;
    expect(reply.user).toBe(installed.botUserId);

    const mention = await t.api('chat.postMessage', ada.token, { channel, text: `<@${installed.botUserId}> are you there?` });
    await waitFor(
      async () => (await t.api('conversations.replies', ada.token, { channel, ts: mention.body.ts })).body.messages?.length === 2,
      15_000,
      'the threaded answer to the mention',
    );
    const thread = (await t.api('conversations.replies', ada.token, { channel, ts: mention.body.ts })).body.messages;
    expect(thread[1]).toMatchObject({ user: installed.botUserId, text: `mentioned by <@${ada.id}>` });

    const dm = await t.api('conversations.open', ada.token, { users: installed.botUserId });
    expect(dm.body.ok).toBe(true);
    await t.api('chat.postMessage', ada.token, { channel: dm.body.channel.id, text: 'hello in private' });
    await waitFor(
      async () => (await history(t, ada, dm.body.channel.id)).some((m) => m.text === `hi <@${ada.id}>`),
      15_000,
      'the DM reply',
    );
    // Each event once, in order; the bot's own replies never came back to it.
    expect(received).toEqual(['message:hello bot', `mention:<@${installed.botUserId}> are you there?`, 'message:hello in private']);
  });
});
