import { randomBytes } from 'node:crypto';
import { BodyCipher } from '../../src/crypto/body-cipher.js';
import { TestApp, type TestUser } from '../support/test-app.js';

// Sealing an edited body can be a KMS round trip (EKM). It happens before chat.update takes the
// channel lock, so a slow key provider never holds up the other writers of the channel; a caller
// the channel rules refuse is refused before it, so a refused edit writes nothing (no data key).

describe('chat.update seals before it locks the channel', () => {
  let t: TestApp;
  let ada: TestUser;

  beforeAll(async () => {
    t = await TestApp.start({ EKM_LOCAL_MASTER_KEY: randomBytes(32).toString('base64') });
    ada = await t.newUser(await t.newWorkspace());
  });
  afterAll(() => t.close());

  it('a post to the channel completes while an edit waits for its seal; then the edit lands', async () => {
    const channel = await t.newChannel(ada, 'slow-seal');
    const original = await t.api('chat.postMessage', ada.token, { channel, text: 'first' });
    const cipher = t.app.get(BodyCipher);
    const seal = cipher.seal.bind(cipher);
    let release!: () => void;
    const sealing = new Promise<void>((resolve) => (release = resolve));
    let sealStarted!: () => void;
    const started = new Promise<void>((resolve) => (sealStarted = resolve));
    cipher.seal = async (...args: Parameters<BodyCipher['seal']>) => {
      if (args[2] === 'edited slowly') {
        sealStarted();
        await sealing; // the key provider is slow
      }
      return seal(...args);
    };
    try {
      const edit = t.api('chat.update', ada.token, { channel, ts: original.body.ts, text: 'edited slowly' });
      await started;
      const post = t.api('chat.postMessage', ada.token, { channel, text: 'meanwhile' });
      const waited = new Promise<'blocked'>((resolve) => setTimeout(() => resolve('blocked'), 5000).unref());
      expect(await Promise.race([post.then(() => 'posted'), waited])).toBe('posted');
      const during = await post;
      expect(during.body.ok).toBe(true);
      release();
      const edited = await edit;
      expect(edited.body).toMatchObject({ ok: true, text: 'edited slowly' });
      // The edit was appended after the post that did not wait for it.
      expect(edited.body.seq).toBe(during.body.seq + 1);
    } finally {
      release();
      cipher.seal = seal;
    }
  });

  it('a refused edit in an EKM workspace writes nothing, not even the data key a seal would create', async () => {
    const ws = await t.newWorkspace('Sealed');
    const admin = await t.newUser(ws, 'admin');
    const outsider = await t.newUser(ws);
    expect((await t.admin('POST', `/workspaces/${ws}/ekm`, { provider: 'local' })).status).toBe(202);
    const hidden = await t.newChannel(admin, 'hidden', true); // nothing posted yet: no data key today
    const before = await t.tableCounts();
    const answers = [
      await t.api('chat.update', outsider.token, { channel: hidden, ts: '1700000000.000001', text: 'x' }),
      await t.api('chat.update', outsider.token, { channel: 'CNOWHERE', ts: '1700000000.000001', text: 'x' }),
    ];
    expect(answers.map((a) => a.body.error)).toEqual(['channel_not_found', 'channel_not_found']);
    expect(await t.tableCounts()).toEqual(before);
    const { rows } = await t.pool.query('SELECT channel_id FROM data_keys WHERE workspace_id = $1', [ws]);
    expect(rows).toEqual([]);
  });
});
