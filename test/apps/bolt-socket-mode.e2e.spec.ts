import { ALL_MESSAGE_EVENTS, type BoltApp, history, installApp, type InstalledApp, socketModeBolt, startBolt } from '../support/apps.js';
import { TestApp, type TestUser } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

// The same unmodified Bolt app in Socket Mode: its SocketModeReceiver asks apps.connections.open
// (through the same slackApiUrl) for the ws URL atomcast serves, and answers over it.

describe('Bolt (Socket Mode) against atomcast', () => {
  let t: TestApp;
  let workspace: string;
  let ada: TestUser;
  let installed: InstalledApp;
  let boltApp: BoltApp;
  const received: string[] = [];

  beforeAll(async () => {
    t = await TestApp.start();
    workspace = await t.newWorkspace();
    ada = await t.newUser(workspace, 'member', 'ada');
    installed = await installApp(t, workspace, { name: 'Sockets', events: ALL_MESSAGE_EVENTS });
    boltApp = socketModeBolt(t, installed);
    boltApp.message('hello', async ({ message, say }) => {
      received.push(`message:${(message as { text?: string }).text}`);
      await say(`hi <@${(message as { user: string }).user}>`);
    });
    boltApp.event('app_mention', async ({ event, say }) => {
      received.push(`mention:${event.text}`);
      await say(`mentioned by <@${event.user}>`);
    });
    boltApp.action('approve', async ({ ack, body, respond }) => {
      await ack();
      await respond({ replace_original: true, text: `Approved by <@${body.user.id}>` });
    });
    await startBolt(boltApp);
  });

  afterAll(async () => {
    await boltApp?.stop();
    await t.close();
  });

  it('apps.connections.open takes only an app token', async () => {
    expect((await t.api('apps.connections.open', installed.botToken)).body).toEqual({ ok: false, error: 'not_allowed_token_type' });
    expect((await t.api('apps.connections.open', undefined)).body).toEqual({ ok: false, error: 'not_authed' });
    const open = await t.api('apps.connections.open', installed.appToken);
    expect(open.body.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/apps\/socket-mode\?ticket=/);
    // App tokens open sockets and nothing else.
    expect((await t.api('auth.test', installed.appToken)).body).toEqual({ ok: false, error: 'invalid_auth' });
  });

  it("a request URL goes through the unfurler's SSRF guard: loopback is refused unless the operator allows it", async () => {
    const res = await t.admin('PATCH', `/workspaces/${workspace}/apps/${installed.id}`, { request_url: `${t.url}/health` });
    expect(res.status).toBe(400);
    expect(res.body.message).toBe('url_verification_failed: denied_address');
    expect((await t.admin('GET', `/workspaces/${workspace}/apps/${installed.id}`)).body.app.request_url).toBeNull();
  });

  it('answers hello and a mention in a channel, and hello in a DM', async () => {
    const channel = await t.newChannel(ada, 'general', false, [installed.bot]);
    await t.api('chat.postMessage', ada.token, { channel, text: 'hello socket' });
    await waitFor(async () => (await history(t, ada, channel)).some((m) => m.text === `hi <@${ada.id}>`), 15_000, 'the reply to hello');
    await t.api('chat.postMessage', ada.token, { channel, text: `<@${installed.botUserId}> ping` });
    await waitFor(
      async () => (await history(t, ada, channel)).some((m) => m.text === `mentioned by <@${ada.id}>`),
      15_000,
      'the mention reply',
    );
    const dm = await t.api('conversations.open', ada.token, { users: installed.botUserId });
    await t.api('chat.postMessage', ada.token, { channel: dm.body.channel.id, text: 'hello dm' });
    await waitFor(
      async () => (await history(t, ada, dm.body.channel.id)).some((m) => m.text === `hi <@${ada.id}>`),
      15_000,
      'the DM reply',
    );
    expect(received).toEqual(['message:hello socket', `mention:<@${installed.botUserId}> ping`, 'message:hello dm']);
    const replies = (await history(t, ada, channel)).filter((m) => m.user === installed.botUserId);
    expect(replies.map((m) => m.text)).toEqual([`hi <@${ada.id}>`, `mentioned by <@${ada.id}>`]);
  });

  it('a click reaches app.action as an interactive envelope and respond() replaces the message', async () => {
    const channel = await t.newChannel(ada, 'deploys', false, [installed.bot]);
    const posted = await t.api('chat.postMessage', installed.botToken, { channel, text: 'Ship it?' });
    const click = await t.api('client.blockAction', ada.token, {
      channel,
      message_ts: posted.body.ts,
      block_id: 'b',
      action_id: 'approve',
      value: 'y',
    });
    expect(click.body).toEqual({ ok: true });
    await waitFor(
      async () => (await history(t, ada, channel)).some((m) => m.text === `Approved by <@${ada.id}>`),
      15_000,
      'the replaced message',
    );
    expect((await history(t, ada, channel)).filter((m) => m.user === installed.botUserId).map((m) => m.ts)).toEqual([posted.body.ts]);
  });
});
