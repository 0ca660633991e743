import bolt from '@slack/bolt';
import { freePort } from '../support/free-port.js';
import { TestApp, type TestUser } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';
import { history, installApp, type InstalledApp } from './app-fixtures.js';

const { App, LogLevel } = bolt;

// A click on an app's message (client.blockAction, what the web client calls for the user) reaches
// Bolt's app.action handler as a signed block_actions payload; its respond() replaces the message.

describe('interactivity: block_actions and response_url', () => {
  let t: TestApp;
  let workspace: string;
  let ada: TestUser;
  let installed: InstalledApp;
  let boltApp: InstanceType<typeof App>;
  let channel: string;
  const actions: Record<string, any>[] = [];

  beforeAll(async () => {
    t = await TestApp.start({ APPS_ALLOW_LOOPBACK: 'true' });
    workspace = await t.newWorkspace();
    ada = await t.newUser(workspace, 'member', 'ada');
    const port = await freePort();
    installed = await installApp(t, workspace, { name: 'Approver', interactivity_url: `http://127.0.0.1:${port}/slack/events` });
    boltApp = new App({
      token: installed.botToken,
      signingSecret: installed.signingSecret,
      clientOptions: { slackApiUrl: `${t.url}/api/` },
      logLevel: LogLevel.ERROR,
      deferInitialization: true,
    });
    boltApp.action('approve', async ({ ack, body, action, respond }) => {
      await ack();
      actions.push({ body, action });
      await respond({ replace_original: true, text: `Approved by <@${body.user.id}>` });
    });
    boltApp.action('discard', async ({ ack, respond }) => {
      await ack();
      await respond({ delete_original: true });
    });
    await boltApp.init();
    await boltApp.start({ port, host: '127.0.0.1' });
    channel = await t.newChannel(ada, 'deploys', false, [{ id: installed.botUserId, token: installed.botToken, workspace }]);
  });

  afterAll(async () => {
    await boltApp?.stop();
    await t.close();
  });

  it("a click reaches app.action and respond({replace_original}) replaces the app's message", async () => {
    const posted = await t.api('chat.postMessage', installed.botToken, { channel, text: 'Deploy 42 to production?' });
    expect(posted.body.message).toMatchObject({ bot_id: installed.botId, bot_profile: { id: installed.botId, name: 'Approver' } });
    const click = await t.api('client.blockAction', ada.token, {
      channel,
      message_ts: posted.body.ts,
      block_id: 'decide',
      action_id: 'approve',
      value: 'deploy-42',
      type: 'button',
      text: 'Approve',
    });
    expect(click.body).toEqual({ ok: true });
    await waitFor(
      async () => (await history(t, ada, channel)).some((m) => m.text === `Approved by <@${ada.id}>`),
      15_000,
      'the replaced message',
    );
    const messages = (await history(t, ada, channel)).filter((m) => m.user === installed.botUserId);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ ts: posted.body.ts, text: `Approved by <@${ada.id}>` });
    const { body, action } = actions[0];
    expect(body).toMatchObject({
      type: 'block_actions',
      user: { id: ada.id },
      api_app_id: installed.id,
      channel: { id: channel },
      container: { type: 'message', message_ts: posted.body.ts, channel_id: channel },
      message: { ts: posted.body.ts, bot_id: installed.botId },
    });
    expect(body.response_url).toMatch(new RegExp(`^${t.url}/api/apps\\.respond/`));
    expect(action).toMatchObject({
      action_id: 'approve',
      block_id: 'decide',
      value: 'deploy-42',
      type: 'button',
      text: { text: 'Approve' },
    });
  });

  it('respond({delete_original}) deletes it', async () => {
    const posted = await t.api('chat.postMessage', installed.botToken, { channel, text: 'Throwaway' });
    await t.api('client.blockAction', ada.token, { channel, message_ts: posted.body.ts, block_id: 'b', action_id: 'discard' });
    await waitFor(async () => !(await history(t, ada, channel)).some((m) => m.ts === posted.body.ts), 15_000, 'the deletion');
  });

  it("refuses a click on a person's message, and on a message the user cannot see", async () => {
    const own = await t.api('chat.postMessage', ada.token, { channel, text: 'mine' });
    const res = await t.api('client.blockAction', ada.token, { channel, message_ts: own.body.ts, block_id: 'b', action_id: 'approve' });
    expect(res.body).toEqual({ ok: false, error: 'invalid_arguments' });
    const bob = await t.newUser(workspace, 'member', 'bob');
    const secret = await t.newChannel(ada, 'secret', true);
    const hidden = await t.api('client.blockAction', bob.token, {
      channel: secret,
      message_ts: own.body.ts,
      block_id: 'b',
      action_id: 'approve',
    });
    expect(hidden.body).toEqual({ ok: false, error: 'channel_not_found' });
  });

  it('an unknown response_url gets 404 expired_url', async () => {
    const res = await fetch(`${t.url}/api/apps.respond/nope/nope`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'x', replace_original: true }),
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ ok: false, error: 'expired_url' });
  });
});
