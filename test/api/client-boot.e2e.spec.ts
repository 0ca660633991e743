import { TestApp, type TestUser } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

/**
 * A workspace of `users` users (one INSERT ... SELECT generate_series) and a user of it who is a
 * member of `channels` channels (inserted the same way; the channels' streams stay empty).
 */
async function seedWorkspace(t: TestApp, users: number, channels: number): Promise<TestUser> {
  const ws = await t.newWorkspace('Boot');
  const me = await t.newUser(ws, 'member', 'me');
  await t.pool.query(
    `INSERT INTO users (id, workspace_id, name, role)
     SELECT 'U' || $2 || lpad(i::text, 6, '0'), $1, 'u' || i, 'member' FROM generate_series(1, $3) i`,
    [ws, ws.slice(1, 7), users],
  );
  await t.pool.query(
    `INSERT INTO channels (id, workspace_id, name, is_private, creator)
     SELECT 'C' || $2 || lpad(i::text, 5, '0'), $1, 'channel-' || lpad(i::text, 5, '0'), false, $3 FROM generate_series(1, $4) i`,
    [ws, ws.slice(1, 7), me.id, channels],
  );
  await t.pool.query(
    `INSERT INTO channel_members (channel_id, user_id, joined_seq)
     SELECT 'C' || $1 || lpad(i::text, 5, '0'), $2, 0 FROM generate_series(1, $3) i`,
    [ws.slice(1, 7), me.id, channels],
  );
  return { ...me, workspace: ws };
}

describe('client.boot', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await TestApp.start();
  });
  afterAll(async () => {
    await t.close();
  });

  it('self, the workspace and the caller channels with counts; no member lists, no user directory', async () => {
    const ws = await t.newWorkspace();
    const [ada, bob] = [await t.newUser(ws), await t.newUser(ws)];
    const general = await t.newChannel(ada, 'general', false, [bob]);
    const secret = await t.newChannel(bob, 'secret', true);
    await t.api('chat.postMessage', bob.token, { channel: general, text: `hi <@${ada.id}>` });
    // The projector counts asynchronously.
    await waitFor(async () => (await t.api('client.counts', ada.token)).body.channels[0]?.mention_count === 1, 10_000, 'counted');
    const res = await t.api('client.boot', ada.token);
    expect(res.body).toMatchObject({
      ok: true,
      self: { id: ada.id, team_id: ws },
      team: { id: ws, name: 'Acme' },
      ims: [],
      mpims: [],
      response_metadata: { next_cursor: '' },
    });
    expect(res.body.channels).toEqual([
      expect.objectContaining({ id: general, name: 'general', is_member: true, is_private: false, has_unreads: true }),
    ]);
    const counts = await t.api('client.counts', ada.token);
    const { unread_count, mention_count, latest } = counts.body.channels[0];
    expect(res.body.channels[0]).toMatchObject({ unread_count: 1, mention_count: 1 });
    expect(res.body.channels[0]).toMatchObject({ unread_count, mention_count, latest });
    expect(JSON.stringify(res.body)).not.toContain(bob.id);
    expect(JSON.stringify(res.body)).not.toContain(secret);
    expect((await t.api('client.boot', undefined)).body).toEqual({ ok: false, error: 'not_authed' });
    expect((await t.api('client.boot', ada.token, { cursor: 'nope' })).body).toEqual({ ok: false, error: 'invalid_cursor' });
  });

  it('stays the same size for a user in 1,000 channels whether the workspace has 10 or 100,000 users', async () => {
    const small = await seedWorkspace(t, 10, 1000);
    const large = await seedWorkspace(t, 100_000, 1000);
    expect((await t.pool.query('SELECT count(*)::int n FROM users WHERE workspace_id = $1', [large.workspace])).rows[0].n).toBe(100_001);
    const bootSmall = await t.api('client.boot', small.token);
    const bootLarge = await t.api('client.boot', large.token);
    expect(bootSmall.body.channels).toHaveLength(1000);
    expect(bootLarge.body.channels).toHaveLength(1000);
    const bytes = (b: unknown) => Buffer.byteLength(JSON.stringify(b));
    // Same shape, ids of the same length: the payload does not grow with the user count at all.
    expect(bytes(bootLarge.body)).toBe(bytes(bootSmall.body));
    expect(bytes(bootLarge.body)).toBeLessThan(400 * 1000);
  });
});
