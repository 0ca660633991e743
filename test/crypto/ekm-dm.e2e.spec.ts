import { randomBytes } from 'node:crypto';
import { TestApp, type TestUser } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

const SECRET = 'between the two of us: swordfish';

// Issue 10: a DM is a conversation in the same streams, so EKM seals its bodies like a channel's,
// those written before EKM was enabled (by the encrypt run) and after it (post_message()).
describe('EKM covers DMs and group DMs', () => {
  let t: TestApp;
  let ws: string;
  let admin: TestUser;
  let ada: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    t = await TestApp.start({ EKM_LOCAL_MASTER_KEY: randomBytes(32).toString('base64') });
    ws = await t.newWorkspace();
    [admin, ada, bob] = await Promise.all([t.newUser(ws, 'admin'), t.newUser(ws), t.newUser(ws)]);
  });
  afterAll(() => t.close());

  const plaintext = async (channel: string) =>
    Number(
      (
        await t.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM messages WHERE channel_id = $1 AND (text IS NOT NULL OR body_enc IS NULL)`,
          [channel],
        )
      ).rows[0].n,
    );

  it('seals DM bodies before and after enabling, and members still read them', async () => {
    const dm = (await t.api('conversations.open', ada.token, { users: bob.id })).body.channel.id as string;
    const mpim = (await t.api('conversations.open', ada.token, { users: `${bob.id},${admin.id}` })).body.channel.id as string;
    await t.api('chat.postMessage', ada.token, { channel: dm, text: `${SECRET} (before)` });
    await t.api('chat.postMessage', ada.token, { channel: mpim, text: `${SECRET} (group, before)` });
    expect(await plaintext(dm)).toBe(1);

    const enabled = await t.admin('POST', `/workspaces/${ws}/ekm`, { provider: 'local' });
    expect(enabled.status).toBe(202);
    const run = enabled.body.run as { id: string };
    await waitFor(async () => (await t.admin('GET', `/workspaces/${ws}/ekm/runs/${run.id}`)).body.status === 'done', 20_000, 'EKM run');

    expect((await t.api('chat.postMessage', bob.token, { channel: dm, text: `${SECRET} (after)` })).body.ok).toBe(true);
    expect([await plaintext(dm), await plaintext(mpim)]).toEqual([0, 0]);
    const history = await t.api('conversations.history', bob.token, { channel: dm });
    expect(history.body.messages.map((m: { text: string }) => m.text)).toEqual([`${SECRET} (after)`, `${SECRET} (before)`]);
  });
});
