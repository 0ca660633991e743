import { randomBytes } from 'node:crypto';
import { EKM_DENIED_TEXT } from '../../src/domain/message.js';
import { TestApp, type TestUser } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

// A sealed body is bound to its message (channel, seq, author), not only to its channel's key of the
// day: a box copied onto another row of the same channel and day never opens as that row's text.
describe('EKM: a sealed body belongs to one message', () => {
  let t: TestApp;
  let ws: string;
  let ada: TestUser;
  let bob: TestUser;
  let channel: string;

  beforeAll(async () => {
    t = await TestApp.start({ EKM_LOCAL_MASTER_KEY: randomBytes(32).toString('base64') });
    ws = await t.newWorkspace();
    ada = await t.newUser(ws, 'admin');
    bob = await t.newUser(ws);
    channel = await t.newChannel(ada, 'bound', false, [bob]);
    const run = (await t.admin('POST', `/workspaces/${ws}/ekm`, { provider: 'local' })).body.run;
    await waitFor(async () => (await t.admin('GET', `/workspaces/${ws}/ekm/runs/${run.id}`)).body.status === 'done', 20_000, 'EKM run');
  });
  afterAll(() => t.close());

  const post = async (user: TestUser, text: string) => {
    const res = await t.api('chat.postMessage', user.token, { channel, text });
    expect(res.body.ok).toBe(true);
    return res.body.ts as string;
  };
  const history = async () =>
    Object.fromEntries(
      (await t.api('conversations.history', ada.token, { channel })).body.messages.map(
        (m: { ts: string; text: string; subtype?: string }) => [m.ts, m.subtype ?? m.text],
      ),
    );
  /** Copies the sealed body (and its key id) of one row onto another, as a writer with database access could. */
  const copyBody = async (from: string, to: string) => {
    const toMicros = (ts: string) => ts.replace('.', '');
    const res = await t.pool.query(
      `UPDATE messages m SET body_enc = s.body_enc, data_key_id = s.data_key_id
         FROM messages s WHERE s.channel_id = $1 AND s.ts = $2 AND m.channel_id = $1 AND m.ts = $3 AND s.body_enc IS NOT NULL`,
      [channel, toMicros(from), toMicros(to)],
    );
    expect(res.rowCount).toBe(1);
  };

  it('a body moved to another message of the same author, or of another author, does not open', async () => {
    const a1 = await post(ada, 'ada: pay invoice 1');
    const a2 = await post(ada, 'ada: lunch at noon');
    const b1 = await post(bob, 'bob: hello');
    expect(await history()).toEqual({ [a1]: 'ada: pay invoice 1', [a2]: 'ada: lunch at noon', [b1]: 'bob: hello' });

    await copyBody(a1, a2); // same channel, day and author
    await copyBody(a1, b1); // same channel and day, another author
    expect(await history()).toEqual({ [a1]: 'ada: pay invoice 1', [a2]: 'ekm_access_denied', [b1]: 'ekm_access_denied' });
    const b1Read = await t.api('conversations.history', ada.token, { channel, latest: b1, inclusive: true, limit: 1 });
    expect(b1Read.body.messages[0].text).toBe(EKM_DENIED_TEXT);
  });

  it('an edited body is bound to its message too', async () => {
    const a3 = await post(ada, 'ada: draft');
    const a4 = await post(ada, 'ada: other');
    expect((await t.api('chat.update', ada.token, { channel, ts: a3, text: 'ada: final' })).body.ok).toBe(true);
    expect((await history())[a3]).toBe('ada: final');
    await copyBody(a3, a4);
    expect((await history())[a4]).toBe('ekm_access_denied');
  });
});
