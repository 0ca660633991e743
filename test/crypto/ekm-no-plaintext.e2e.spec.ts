import { randomBytes } from 'node:crypto';
import { BodyCipher } from '../../src/crypto/body-cipher.js';
import { TestApp, type TestUser } from '../support/test-app.js';

// "No plaintext in an EKM workspace" holds in the database, for every write of a body: a node whose
// cached settings still say "no EKM" (another node just enabled it) cannot store an edit in clear,
// and neither can any other writer, insert or update.
describe('EKM: the database refuses plaintext bodies', () => {
  let t: TestApp;
  let ada: TestUser;
  let ws: string;
  let channel: string;

  beforeAll(async () => {
    t = await TestApp.start({ EKM_LOCAL_MASTER_KEY: randomBytes(32).toString('base64'), JOBS_DISPATCHER_ENABLED: 'false' });
    ws = await t.newWorkspace();
    ada = await t.newUser(ws, 'admin');
    channel = await t.newChannel(ada, 'race');
  });
  afterAll(() => t.close());

  const stored = async (ts: string) =>
    (
      await t.pool.query<{ text: string | null; sealed: boolean }>(
        'SELECT text, body_enc IS NOT NULL AS sealed FROM messages WHERE channel_id = $1 AND ts = $2',
        [channel, ts.replace('.', '')],
      )
    ).rows[0];

  it('an edit through a node with a stale "no EKM" view is stored sealed, and reads back', async () => {
    const posted = await t.api('chat.postMessage', ada.token, { channel, text: 'before' });
    expect(posted.body.ok).toBe(true);
    // Another node enables EKM (its row only: this node's cache is not told).
    await t.pool.query(`INSERT INTO ekm_workspaces (workspace_id, provider, key_ref) VALUES ($1, 'local', 'v1')`, [ws]);
    const cipher = t.app.get(BodyCipher);
    const settings = cipher.settings.bind(cipher);
    // This node's cache still says "no EKM" for as long as it is asked without `fresh`.
    cipher.settings = async (workspace: string, fresh = false) => (fresh ? settings(workspace, true) : undefined);
    try {
      const edited = await t.api('chat.update', ada.token, { channel, ts: posted.body.ts, text: 'secret edit' });
      expect(edited.body).toMatchObject({ ok: true, text: 'secret edit' });
      expect(await stored(posted.body.ts)).toEqual({ text: null, sealed: true });
      const history = await t.api('conversations.history', ada.token, { channel });
      expect(history.body.messages[0]).toMatchObject({ ts: posted.body.ts, text: 'secret edit' });

      // A post through the same stale node is sealed too (post_message() said ekm_required, it retried).
      const post = await t.api('chat.postMessage', ada.token, { channel, text: 'secret post' });
      expect(post.body.ok).toBe(true);
      expect(await stored(post.body.ts)).toEqual({ text: null, sealed: true });
    } finally {
      cipher.settings = settings;
    }
  });

  it('refuses a plaintext body on insert and on update from any writer, with SQLSTATE EK001', async () => {
    const { rows } = await t.pool.query<{ seq: string; ts: string }>('SELECT seq, ts FROM messages WHERE channel_id = $1 LIMIT 1', [
      channel,
    ]);
    await expect(
      t.pool.query('UPDATE messages SET text = $3 WHERE channel_id = $1 AND seq = $2', [channel, rows[0].seq, 'leak']),
    ).rejects.toMatchObject({
      code: 'EK001',
    });
    await expect(
      t.pool.query(`INSERT INTO messages (channel_id, seq, ts, user_id, text) VALUES ($1, 999999, 1, $2, 'leak')`, [channel, ada.id]),
    ).rejects.toMatchObject({ code: 'EK001' });
    const { rows: plain } = await t.pool.query(
      'SELECT count(*)::int AS n FROM messages m JOIN channels c ON c.id = m.channel_id WHERE c.workspace_id = $1 AND m.text IS NOT NULL',
      [ws],
    );
    // Nothing in the workspace is stored in clear.
    expect(plain[0].n).toBe(0);
  });
});
