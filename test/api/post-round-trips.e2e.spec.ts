import pg from 'pg';
import { installApp } from '../support/apps.js';
import { TestApp, type TestUser } from '../support/test-app.js';

// chat.postMessage is one round trip to PostgreSQL (post_message()), rich posts included: a bot's
// post (its identity) and a Block Kit post write their rich content in the same call, not in an
// UPDATE of a transaction around it. Seen from the driver: the statements the app sends.
describe('chat.postMessage round trips', () => {
  let t: TestApp;
  let ada: TestUser;
  let channel: string;
  let sent: string[] = [];
  const query = pg.Client.prototype.query;

  beforeAll(async () => {
    t = await TestApp.start({ JOBS_DISPATCHER_ENABLED: 'false', PROJECTOR_ENABLED: 'false' });
    ada = await t.newUser(await t.newWorkspace());
    channel = await t.newChannel(ada, 'trips');
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      const first = args[0] as string | { text?: string };
      sent.push(typeof first === 'string' ? first : (first?.text ?? ''));
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof query;
  });
  afterAll(async () => {
    pg.Client.prototype.query = query;
    await t.close();
  });

  /** The statements one call sends, after a first call with the same token and channel (caches warm). */
  async function statementsOf(token: string, args: Record<string, string>) {
    expect((await t.api('chat.postMessage', token, { channel, text: 'warm-up' })).body.ok).toBe(true);
    sent = [];
    const res = await t.api('chat.postMessage', token, { channel, ...args });
    expect(res.body.ok).toBe(true);
    // The relay's NOTIFY is sent after the answer, batched, by a timer: not part of the post.
    return sent.filter((s) => !s.includes('pg_notify'));
  }

  it("a bot's post with blocks is one post_message() call, and reads back as it was sent", async () => {
    const bot = await installApp(t, ada.workspace, { name: 'Reporter' });
    await t.api('conversations.invite', ada.token, { channel, users: bot.botUserId });
    const blocks = JSON.stringify([{ type: 'section', text: { type: 'mrkdwn', text: '*Nightly*' } }]);
    const statements = await statementsOf(bot.botToken, { text: 'Nightly', blocks, username: 'Night bot' });
    expect(statements).toEqual([expect.stringContaining('post_message(')]);
    const history = await t.api('conversations.history', ada.token, { channel, limit: 1 });
    expect(history.body.messages[0]).toMatchObject({
      text: 'Nightly',
      bot_id: bot.botId,
      username: 'Night bot',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*Nightly*' } }],
    });
  });

  it('a plain text post by a person is one post_message() call', async () => {
    expect(await statementsOf(ada.token, { text: 'plain' })).toEqual([expect.stringContaining('post_message(')]);
  });
});
