import { type BoltApp, history, httpBolt, installApp, type InstalledApp, startBolt } from '../support/apps.js';
import { ephemeralsOf } from '../support/ephemerals.js';
import { freePort } from '../support/free-port.js';
import { TestApp, type TestUser } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';
import { TestClient } from '../realtime/support.js';

const HINT_BLOCKS = [{ type: 'section', text: { type: 'mrkdwn', text: '*Build 981*: 412 tests passed' } }];

// A click on an app's message (client.blockAction, what the web client calls for the user) reaches
// Bolt's app.action handler as a signed block_actions payload; its respond() replaces the message.

describe('interactivity: block_actions and response_url', () => {
  let t: TestApp;
  let workspace: string;
  let ada: TestUser;
  let installed: InstalledApp;
  let boltApp: BoltApp;
  let channel: string;
  const actions: Record<string, any>[] = [];

  beforeAll(async () => {
    t = await TestApp.start({ APPS_ALLOW_LOOPBACK: 'true' });
    workspace = await t.newWorkspace();
    ada = await t.newUser(workspace, 'member', 'ada');
    const port = await freePort();
    installed = await installApp(t, workspace, { name: 'Approver', interactivity_url: `http://127.0.0.1:${port}/slack/events` });
    boltApp = httpBolt(t, installed);
    boltApp.action('approve', async ({ ack, body, action, respond }) => {
      await ack();
      actions.push({ body, action });
      await respond({ replace_original: true, text: `Approved by <@${body.user.id}>` });
    });
    boltApp.action('discard', async ({ ack, respond }) => {
      await ack();
      await respond({ delete_original: true });
    });
    // No response_type: Slack's default is ephemeral, to the clicking user only.
    boltApp.action('hint', async ({ ack, respond }) => {
      await ack();
      await respond('Only you can see this hint');
    });
    boltApp.action('hint-blocks', async ({ ack, respond }) => {
      await ack();
      await respond({ response_type: 'ephemeral', text: 'Details', blocks: HINT_BLOCKS });
    });
    await startBolt(boltApp, port);
    channel = await t.newChannel(ada, 'deploys', false, [installed.bot]);
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

  it('an ephemeral answer (none or response_type ephemeral) reaches only the clicking user, and is stored nowhere', async () => {
    const bob = await t.newUser(workspace, 'member', 'bob2');
    await t.api('conversations.invite', ada.token, { channel, users: bob.id });
    const adaSocket = await new TestClient(ada, t.url).connect();
    const bobSocket = await new TestClient(bob, t.url).connect();
    try {
      const toAda = ephemeralsOf(adaSocket);
      const toBob = ephemeralsOf(bobSocket);
      const posted = await t.api('chat.postMessage', installed.botToken, { channel, text: 'Build 981 finished' });
      const before = await history(t, ada, channel);
      const click = (action_id: string) =>
        t.api('client.blockAction', ada.token, { channel, message_ts: posted.body.ts, block_id: 'b', action_id });
      expect((await click('hint')).body).toEqual({ ok: true });
      await waitFor(() => toAda.length === 1, 15_000, 'the first ephemeral answer');
      expect((await click('hint-blocks')).body).toEqual({ ok: true });
      await waitFor(() => toAda.length === 2, 15_000, 'the second ephemeral answer');
      expect(toAda.map((e) => e.channel)).toEqual([channel, channel]);
      expect(toAda[0].message).toMatchObject({
        text: 'Only you can see this hint',
        user: installed.botUserId,
        bot_id: installed.botId,
        is_ephemeral: true,
      });
      expect(toAda[1].message).toMatchObject({ text: 'Details', blocks: HINT_BLOCKS, is_ephemeral: true });
      // Bob, in the same channel, got nothing: a marker sent to him on the same path arrives alone.
      const marker = await t.api('chat.postEphemeral', installed.botToken, { channel, user: bob.id, text: 'marker' });
      expect(marker.body.ok).toBe(true);
      await waitFor(() => toBob.length > 0, 15_000, 'the marker');
      expect(toBob.map((e) => e.message.text)).toEqual(['marker']);
      // Nothing was stored: history is as it was.
      expect(await history(t, ada, channel)).toEqual(before);
    } finally {
      adaSocket.disconnect();
      bobSocket.disconnect();
    }
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
