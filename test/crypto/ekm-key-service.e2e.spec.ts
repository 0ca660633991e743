import { randomBytes } from 'node:crypto';
import { BodyCipher } from '../../src/crypto/body-cipher.js';
import { KEY_PROVIDERS, KeyAccessDenied, type KeyProvider, type KeyProviders } from '../../src/crypto/key-provider.js';
import { EKM_DENIED_TEXT } from '../../src/domain/message.js';
import { TestApp, type TestUser } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

// A key service that fails (unreachable, throttled) has refused nothing: reads and posts of message
// bodies answer `ekm_unavailable` (503 + Retry-After, to be retried) and never show the messages as
// denied; a key the provider refuses answers `ekm_access_denied`. Either way a refused post writes nothing.
describe('EKM message bodies: a failing key service is not a refusal', () => {
  let t: TestApp;
  let ws: string;
  let ada: TestUser;
  let channel: string;
  let providers: KeyProviders;
  let real: KeyProvider;

  beforeAll(async () => {
    t = await TestApp.start({ EKM_LOCAL_MASTER_KEY: randomBytes(32).toString('base64') });
    ws = await t.newWorkspace();
    ada = await t.newUser(ws, 'admin');
    channel = await t.newChannel(ada, 'kms', false, []);
    const run = (await t.admin('POST', `/workspaces/${ws}/ekm`, { provider: 'local' })).body.run;
    await waitFor(async () => (await t.admin('GET', `/workspaces/${ws}/ekm/runs/${run.id}`)).body.status === 'done', 20_000, 'EKM run');
    providers = t.app.get<KeyProviders>(KEY_PROVIDERS);
    real = providers.local!;
  });
  afterEach(() => {
    providers.local = real;
  });
  afterAll(() => t.close());

  /** The local provider, failing every wrap and unwrap with `err`; the app's unwrapped keys forgotten. */
  const failWith = (err: Error) => {
    providers.local = {
      name: 'local',
      verify: (w, k) => real.verify(w, k),
      wrap: () => Promise.reject(err),
      unwrap: () => Promise.reject(err),
    };
    t.app.get(BodyCipher).forget(ws);
  };
  const post = (text: string, extra: Record<string, string> = {}) => t.api('chat.postMessage', ada.token, { channel, text, ...extra });
  const texts = async () =>
    (await t.api('conversations.history', ada.token, { channel })).body.messages.map((m: { text: string }) => m.text);
  const rowCount = async () => Number((await t.pool.query('SELECT count(*) FROM messages WHERE channel_id = $1', [channel])).rows[0].count);

  it('history, replies and posts answer ekm_unavailable (503, Retry-After) while the key service fails, then work again', async () => {
    const parent = (await post('before the outage')).body.ts as string;
    expect((await post('a reply', { thread_ts: parent })).body.ok).toBe(true);
    const before = await rowCount();

    failWith(new Error('connect ECONNREFUSED 10.0.0.1:443'));
    for (const res of [
      await t.api('conversations.history', ada.token, { channel }),
      await t.api('conversations.replies', ada.token, { channel, ts: parent }),
      await post('during the outage'),
    ]) {
      expect([res.status, res.body]).toEqual([503, { ok: false, error: 'ekm_unavailable' }]);
      expect(res.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    }
    expect(await rowCount()).toBe(before); // the refused post wrote nothing

    providers.local = real;
    expect(await texts()).toEqual(['before the outage']);
    const replies = (await t.api('conversations.replies', ada.token, { channel, ts: parent })).body.messages;
    expect(replies.map((m: { text: string }) => m.text)).toEqual(['before the outage', 'a reply']);
    expect((await post('after the outage')).body.ok).toBe(true);
    expect(await texts()).toEqual(['after the outage', 'before the outage']);
  });

  it('a refused key reads as ekm_access_denied, and a post under it is refused with nothing written', async () => {
    const before = await rowCount();
    failWith(new KeyAccessDenied());
    const history = await t.api('conversations.history', ada.token, { channel });
    expect(history.status).toBe(200);
    expect(history.body.messages.length).toBeGreaterThan(0);
    for (const m of history.body.messages) expect([m.subtype, m.text]).toEqual(['ekm_access_denied', EKM_DENIED_TEXT]);
    const refused = await post('under a refused key');
    expect([refused.status, refused.body]).toEqual([200, { ok: false, error: 'ekm_access_denied' }]);
    expect(await rowCount()).toBe(before);
  });
});
