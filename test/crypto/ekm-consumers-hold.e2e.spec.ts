import { randomBytes } from 'node:crypto';
import { BodyCipher } from '../../src/crypto/body-cipher.js';
import { KEY_PROVIDERS, type KeyProvider, type KeyProviders, KeyServiceUnavailable } from '../../src/crypto/key-provider.js';
import { parseTs } from '../../src/domain/ts.js';
import { ProjectorService } from '../../src/projections/projector.service.js';
import { TestApp, type TestUser } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

const HOLD_SECONDS = 2;

// The log's consumers read each event once: a body whose key service fails (not refuses) must not
// reach the search index or the unread mentions as denied. They stop before it and retry, for up to
// EKM_HOLD_SECONDS; after that they read it as denied and move on, so one customer's failing KMS
// cannot stop every workspace's consumers for longer.
describe("EKM: the log's consumers wait for a failing key service", () => {
  let t: TestApp;
  let ws: string;
  let ada: TestUser;
  let bob: TestUser;
  let channel: string;
  let providers: KeyProviders;
  let real: KeyProvider;
  let unwraps = 0;

  beforeAll(async () => {
    // The projector runs only when the test asks (catchUp), so nothing applies an event behind its back.
    t = await TestApp.start({
      EKM_LOCAL_MASTER_KEY: randomBytes(32).toString('base64'),
      EKM_HOLD_SECONDS: String(HOLD_SECONDS),
      PROJECTOR_ENABLED: 'false',
    });
    ws = await t.newWorkspace();
    ada = await t.newUser(ws, 'admin');
    bob = await t.newUser(ws);
    channel = await t.newChannel(ada, 'kms-hold', false, [bob]);
    const run = (await t.admin('POST', `/workspaces/${ws}/ekm`, { provider: 'local' })).body.run;
    await waitFor(async () => (await t.admin('GET', `/workspaces/${ws}/ekm/runs/${run.id}`)).body.status === 'done', 20_000, 'EKM run');
    providers = t.app.get<KeyProviders>(KEY_PROVIDERS);
    real = providers.local!;
    await projector().catchUp();
  });
  afterEach(() => {
    providers.local = real;
  });
  afterAll(() => t.close());

  const projector = () => t.app.get(ProjectorService);
  /** The local provider failing every unwrap as an unreachable KMS does; the app's unwrapped keys forgotten. */
  const failing = () => {
    unwraps = 0;
    providers.local = {
      name: 'local',
      verify: (w, k) => real.verify(w, k),
      wrap: (w, k, d) => real.wrap(w, k, d),
      unwrap: () => {
        unwraps++;
        return Promise.reject(new Error('connect ECONNREFUSED 10.0.0.1:443'));
      },
    };
    t.app.get(BodyCipher).forget(ws);
  };
  const post = async (text: string) => {
    const res = await t.api('chat.postMessage', ada.token, { channel, text });
    expect(res.body.ok).toBe(true);
    return String(parseTs(res.body.ts as string));
  };
  const unread = async (ts: string) =>
    (await t.pool.query('SELECT mentions FROM unread_messages WHERE channel_id = $1 AND ts = $2', [channel, ts])).rows;
  /** Whether a projector pass gets to the end of the log now. */
  const passes = () =>
    projector()
      .catchUp(5_000)
      .then(
        () => true,
        (err: unknown) => (err instanceof KeyServiceUnavailable ? false : Promise.reject(err)),
      );
  const indexed = async (ts: string) =>
    Number((await t.pool.query('SELECT count(*) FROM search_messages WHERE channel_id = $1 AND ts = $2', [channel, ts])).rows[0].count);

  it('stops before the body and retries; once the service answers, the message is counted with its mention and indexed', async () => {
    const ts = await post(`heron sighting for <@${bob.id}>`);
    failing();
    for (let pass = 0; pass < 5; pass++) await expect(projector().catchUp(5_000)).rejects.toBeInstanceOf(KeyServiceUnavailable);
    expect(await unread(ts)).toEqual([]); // not applied as denied, not applied at all
    expect(await indexed(ts)).toBe(0);
    // Passes in quick succession do not each ask the failing service (at most once a second).
    expect(unwraps).toBeGreaterThan(0);
    expect(unwraps).toBeLessThan(5);

    providers.local = real;
    await waitFor(passes, 10_000, 'a pass past the restored key'); // the next ask, within a second
    expect(await unread(ts)).toEqual([{ mentions: [bob.id] }]);
    expect(await indexed(ts)).toBe(1);
    const found = (await t.api('search.messages', bob.token, { query: 'heron' })).body;
    expect(found.messages.matches.map((m: { ts: string }) => String(parseTs(m.ts)))).toEqual([ts]);
  });

  it(`reads the body as denied after EKM_HOLD_SECONDS (${HOLD_SECONDS} s) of failure and moves on`, async () => {
    const ts = await post(`egret sighting for <@${bob.id}>`);
    failing();
    const since = Date.now();
    await expect(projector().catchUp(5_000)).rejects.toBeInstanceOf(KeyServiceUnavailable);
    await waitFor(passes, 20_000, 'a pass after the hold');
    expect(Date.now() - since).toBeGreaterThanOrEqual(HOLD_SECONDS * 1000 - 50); // not before the hold ran out
    // Applied without its text: no mention, nothing to index (the search index never holds a denied body).
    expect(await unread(ts)).toEqual([{ mentions: [] }]);
    expect(await indexed(ts)).toBe(0);
  });
});
