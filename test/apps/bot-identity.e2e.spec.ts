import { randomBytes } from 'node:crypto';
import { ALL_MESSAGE_EVENTS, type BoltApp, history, httpBolt, installApp, type InstalledApp, startBolt } from '../support/apps.js';
import { freePort } from '../support/free-port.js';
import { TestApp, type TestUser } from '../support/test-app.js';
import { TestClient, waitFor } from '../realtime/support.js';

// A bot's messages say who posted them everywhere a message appears (the post's answer, history,
// replies, socket `message` events, another app's Events API callbacks, after an edit), and a bot
// token's username / icon_emoji / icon_url overrides show as Slack shows them; a person's token
// (or as_user) cannot override anything.

describe("a bot's identity on its messages", () => {
  let t: TestApp;
  let workspace: string;
  let ada: TestUser;
  let reporter: InstalledApp;
  let listener: InstalledApp;
  let listenerApp: BoltApp;
  let channel: string;
  let watcher: TestClient;
  const callbacks: Record<string, any>[] = [];

  async function json(method: string, token: string, body: Record<string, unknown>) {
    const res = await fetch(`${t.url}/api/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    return (await res.json()) as Record<string, any>;
  }
  const socketEvent = async (ts: string) => {
    await waitFor(() => watcher.events.some((e) => e.type === 'message' && e.ts === ts), 10_000, 'socket message');
    return watcher.events.find((e) => e.type === 'message' && e.ts === ts) as Record<string, any>;
  };
  const callback = async (ts: string) => {
    await waitFor(() => callbacks.some((e) => e.ts === ts && !e.subtype), 15_000, 'Events API message');
    return callbacks.find((e) => e.ts === ts && !e.subtype) as Record<string, any>;
  };

  beforeAll(async () => {
    t = await TestApp.start({ APPS_ALLOW_LOOPBACK: 'true', EKM_LOCAL_MASTER_KEY: randomBytes(32).toString('base64') });
    workspace = await t.newWorkspace();
    ada = await t.newUser(workspace, 'member', 'ada');
    reporter = await installApp(t, workspace, { name: 'Reporter' });
    const port = await freePort();
    listener = await installApp(t, workspace, { name: 'Listener', events: ALL_MESSAGE_EVENTS });
    listenerApp = httpBolt(t, listener);
    listenerApp.event('message', async ({ event }) => {
      callbacks.push(event as Record<string, any>);
    });
    await startBolt(listenerApp, port);
    const set = await t.admin('PATCH', `/workspaces/${workspace}/apps/${listener.id}`, {
      request_url: `http://127.0.0.1:${port}/slack/events`,
    });
    if (set.status !== 200) throw new Error(`request_url: ${set.status} ${JSON.stringify(set.body)}`);
    channel = await t.newChannel(ada, 'reports', false, [reporter.bot, listener.bot]);
    watcher = await new TestClient(ada, t.url).connect();
  });

  afterAll(async () => {
    watcher?.disconnect();
    await listenerApp?.stop();
    await t.close();
  });

  it('bot_id and bot_profile in the answer, history, replies, the socket event, the Events API and after an edit', async () => {
    const profile = { id: reporter.botId, name: 'Reporter', deleted: false, team_id: workspace };
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*Nightly* report' } }];
    const posted = await json('chat.postMessage', reporter.botToken, { channel, text: 'Nightly report', blocks });
    expect(posted).toMatchObject({ ok: true, message: { bot_id: reporter.botId, bot_profile: profile } });

    const top = (await history(t, ada, channel)).find((m) => m.ts === posted.ts)!;
    expect(top).toMatchObject({ user: reporter.botUserId, bot_id: reporter.botId, bot_profile: profile, blocks });
    expect(await socketEvent(posted.ts)).toMatchObject({ bot_id: reporter.botId, bot_profile: profile, blocks });
    expect(await callback(posted.ts)).toMatchObject({ bot_id: reporter.botId, bot_profile: profile, blocks, text: 'Nightly report' });

    const reply = await json('chat.postMessage', reporter.botToken, { channel, text: 'details', thread_ts: posted.ts });
    const replies = await t.api('conversations.replies', ada.token, { channel, ts: posted.ts });
    expect(replies.body.messages.map((m: Record<string, any>) => [m.ts, m.bot_id, m.bot_profile?.name])).toEqual([
      [posted.ts, reporter.botId, 'Reporter'],
      [reply.ts, reporter.botId, 'Reporter'],
    ]);

    const edited = await json('chat.update', reporter.botToken, { channel, ts: posted.ts, text: 'Nightly report (final)' });
    expect(edited).toMatchObject({ ok: true, message: { bot_id: reporter.botId, bot_profile: profile, blocks } });
    expect((await history(t, ada, channel)).find((m) => m.ts === posted.ts)).toMatchObject({
      text: 'Nightly report (final)',
      bot_id: reporter.botId,
      bot_profile: profile,
    });

    // A person's message carries none of it.
    const own = await json('chat.postMessage', ada.token, { channel, text: 'thanks' });
    expect((await history(t, ada, channel)).find((m) => m.ts === own.ts)).not.toHaveProperty('bot_id');
    expect(await callback(own.ts)).not.toHaveProperty('bot_profile');
  });

  it('username / icon_emoji / icon_url overrides show everywhere for a bot token; emoji wins over url', async () => {
    const posted = await json('chat.postMessage', reporter.botToken, {
      channel,
      text: 'Deployed',
      username: 'Deploy Bot',
      icon_emoji: ':rocket:',
      icon_url: 'https://example.com/deploy.png',
    });
    const shown = { username: 'Deploy Bot', icons: { emoji: ':rocket:' }, bot_id: reporter.botId };
    expect(posted).toMatchObject({ ok: true, message: shown });
    expect((await history(t, ada, channel)).find((m) => m.ts === posted.ts)).toMatchObject(shown);
    expect(await socketEvent(posted.ts)).toMatchObject(shown);
    expect(await callback(posted.ts)).toMatchObject(shown);

    // Form-encoded (what @slack/web-api sends), an icon URL alone.
    const url = await t.api('chat.postMessage', reporter.botToken, { channel, text: 'Graph', icon_url: 'https://example.com/graph.png' });
    expect(url.body.message).toMatchObject({ icons: { image_48: 'https://example.com/graph.png' } });
    expect(url.body.message).not.toHaveProperty('username');
    expect((await history(t, ada, channel)).find((m) => m.ts === url.body.ts)).toMatchObject({
      icons: { image_48: 'https://example.com/graph.png' },
    });
  });

  it('ignored with as_user=true and for a person’s token; a bad icon_url is refused and nothing is written', async () => {
    const asItself = await json('chat.postMessage', reporter.botToken, { channel, text: 'plain', as_user: true, username: 'Someone else' });
    expect(asItself.message).toMatchObject({ bot_id: reporter.botId, bot_profile: { name: 'Reporter' } });
    expect(asItself.message).not.toHaveProperty('username');

    const person = await json('chat.postMessage', ada.token, { channel, text: 'me', username: 'Not ada', icon_emoji: ':ghost:' });
    expect(person.ok).toBe(true);
    const stored = (await history(t, ada, channel)).find((m) => m.ts === person.ts)!;
    for (const key of ['username', 'icons', 'bot_id']) {
      expect(person.message).not.toHaveProperty(key);
      expect(stored).not.toHaveProperty(key);
    }

    const before = await t.tableCounts();
    expect(await json('chat.postMessage', reporter.botToken, { channel, text: 'x', icon_url: 'not a url' })).toEqual({
      ok: false,
      error: 'invalid_arguments',
    });
    expect(await json('chat.postMessage', reporter.botToken, { channel, text: 'x', username: 'n'.repeat(81) })).toEqual({
      ok: false,
      error: 'invalid_arguments',
    });
    expect(await t.tableCounts()).toEqual(before);
  });

  it('under EKM the identity is sealed with the body: nothing of the override in clear, all of it read back', async () => {
    const ws = await t.newWorkspace('Sealed');
    const cy = await t.newUser(ws);
    expect((await t.admin('POST', `/workspaces/${ws}/ekm`, { provider: 'local' })).status).toBe(202);
    const sealer = await installApp(t, ws, { name: 'Sealer' });
    const sealed = await t.newChannel(cy, 'sealed', false, [sealer.bot]);
    const secret = `zebra${randomBytes(6).toString('hex')}`;
    const posted = await json('chat.postMessage', sealer.botToken, {
      channel: sealed,
      text: 'sealed',
      username: secret,
      icon_emoji: ':lock:',
    });
    expect(posted.ok).toBe(true);
    expect(await t.tablesHolding(secret)).toEqual([]);
    const { body } = await t.api('conversations.history', cy.token, { channel: sealed });
    expect(body.messages[0]).toMatchObject({
      ts: posted.ts,
      username: secret,
      icons: { emoji: ':lock:' },
      bot_id: sealer.botId,
      bot_profile: { name: 'Sealer' },
    });
  });
});
