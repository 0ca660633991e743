import { startTwoNodes, type TwoNodes } from '../support/nodes.js';
import { TestApp, type TestUser } from '../support/test-app.js';
import { TestClient, waitFor } from './support.js';

const tokenId = (token: string) => token.split('-')[1];

/** A connected client that records the `revoked` events it gets. */
async function watched(user: TestUser, t: TestApp) {
  const client = await new TestClient(user, t.url).connect();
  const revoked: unknown[] = [];
  client.socket!.on('revoked', (r: unknown) => revoked.push(r));
  return { client, revoked };
}

/** A post's outcome: the ack, or the error of a socket that was disconnected before answering. */
const tryPost = (c: TestClient, channel: string, text: string) =>
  (c.socket!.timeout(2000).emitWithAck('post', { channel, text }) as Promise<{ ok: boolean }>).catch((err: Error) => ({
    ok: false,
    error: `no ack: ${err.message}`,
  }));

// Two nodes over one database: a revocation made through either reaches the sockets and the token
// caches of both, and a credential is never used again once its revocation has been answered.
describe('revocation reaches open connections on every node', () => {
  let nodes: TwoNodes;
  let n1: TestApp;
  let n2: TestApp;
  beforeAll(async () => {
    ({ n1, n2 } = nodes = await startTwoNodes());
  });
  afterAll(() => nodes?.close());

  const messageCount = async (channel: string) =>
    (await n1.pool.query<{ n: number }>('SELECT count(*)::int n FROM messages WHERE channel_id = $1', [channel])).rows[0].n;

  it('a revoked token: its sockets on both nodes get `revoked` and close, a post sent right after is refused, REST refuses it at once', async () => {
    const ws = await n1.newWorkspace();
    const ada = await n1.newUser(ws);
    const channel = await n1.newChannel(ada, 'revoke-token');
    const second = await n1.admin('POST', `/workspaces/${ws}/users/${ada.id}/tokens`);
    expect(second.status).toBe(201);
    const other: TestUser = { ...ada, token: second.body.token };
    // Both nodes have the token in their 5-second cache.
    for (const t of [n1, n2]) expect((await t.api('auth.test', ada.token)).body.ok).toBe(true);
    const [a1, a2, keep] = [await watched(ada, n1), await watched(ada, n2), await watched(other, n2)];
    const before = await messageCount(channel);

    const res = await n1.admin('POST', `/workspaces/${ws}/users/${ada.id}/credentials/${tokenId(ada.token)}/revoke`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: tokenId(ada.token), kind: 'api', revoked_at: expect.any(String) });
    // Sent before the disconnect could reach the clients: refused, or never answered because the socket closed.
    const posts = await Promise.all([tryPost(a1.client, channel, 'after revoke 1'), tryPost(a2.client, channel, 'after revoke 2')]);
    for (const t of [n1, n2]) expect((await t.api('auth.test', ada.token)).body).toEqual({ ok: false, error: 'invalid_auth' });

    await waitFor(() => !a1.client.connected && !a2.client.connected, 5000, 'revoked sockets closed');
    expect(a1.revoked).toEqual([{ reason: 'token_revoked' }]);
    expect(a2.revoked).toEqual([{ reason: 'token_revoked' }]);
    for (const p of posts) expect(p.ok).toBe(false);
    expect(await messageCount(channel)).toBe(before);

    // The user's other token is untouched.
    expect(keep.client.connected).toBe(true);
    expect(keep.revoked).toEqual([]);
    expect((await keep.client.ack('post', { channel, text: 'still here' })).ok).toBe(true);
    const listed = await n2.admin('GET', `/workspaces/${ws}/users/${ada.id}/credentials`);
    expect(listed.body.credentials).toEqual([
      expect.objectContaining({ id: tokenId(ada.token), kind: 'api', revoked_at: expect.any(String) }),
      expect.objectContaining({ id: tokenId(other.token), kind: 'api', revoked_at: null }),
    ]);
    // A revoked token cannot open a socket either.
    await expect(new TestClient(ada, n2.url).connect()).rejects.toThrow('invalid_auth');
    keep.client.disconnect();
  });

  it('deactivating a user closes all their sockets on both nodes; reactivation lets a new token work', async () => {
    const ws = await n1.newWorkspace();
    const admin = await n1.newUser(ws, 'admin');
    const member = await n1.newUser(ws);
    const bob = await n1.newUser(ws);
    const second = await n1.admin('POST', `/workspaces/${ws}/users/${bob.id}/tokens`);
    const bob2: TestUser = { ...bob, token: second.body.token };
    const channel = await n1.newChannel(admin, 'deactivate', false, [bob]);
    for (const t of [n1, n2]) expect((await t.api('auth.test', bob2.token)).body.ok).toBe(true);
    const sockets = [await watched(bob, n1), await watched(bob, n2), await watched(bob2, n1), await watched(bob2, n2)];

    // A member may not; the workspace's admin may (no operator token involved).
    expect((await n2.admin('POST', `/workspaces/${ws}/users/${bob.id}/deactivate`, undefined, member.token)).status).toBe(403);
    const res = await n2.admin('POST', `/workspaces/${ws}/users/${bob.id}/deactivate`, undefined, admin.token);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ user: { id: bob.id, deleted: true }, revoked: 2 });
    const post = await tryPost(sockets[0].client, channel, 'deactivated');
    expect(post.ok).toBe(false);
    for (const t of [n1, n2])
      for (const token of [bob.token, bob2.token]) expect((await t.api('auth.test', token)).body.error).toBe('invalid_auth');

    await waitFor(() => sockets.every((s) => !s.client.connected), 5000, 'all of bob’s sockets closed');
    for (const s of sockets) expect(s.revoked).toEqual([{ reason: 'user_deactivated' }]);
    const info = await n1.api('users.info', admin.token, { user: bob.id });
    expect(info.body.user).toMatchObject({ id: bob.id, deleted: true });
    const list = await n2.api('users.list', admin.token);
    expect(list.body.members.find((m: { id: string }) => m.id === bob.id)).toMatchObject({ deleted: true });
    // No new credential for a deactivated user.
    expect((await n1.admin('POST', `/workspaces/${ws}/users/${bob.id}/tokens`)).status).toBe(404);
    expect((await n1.admin('POST', `/workspaces/${ws}/users/${bob.id}/sign-in-links`)).status).toBe(404);

    const back = await n1.admin('POST', `/workspaces/${ws}/users/${bob.id}/reactivate`, undefined, admin.token);
    expect(back.body.user).toMatchObject({ id: bob.id, deleted: false });
    // Old tokens stay revoked; a new one works, over REST and sockets, on both nodes.
    expect((await n2.api('auth.test', bob.token)).body.error).toBe('invalid_auth');
    const fresh = await n1.admin('POST', `/workspaces/${ws}/users/${bob.id}/tokens`, undefined, admin.token);
    expect(fresh.status).toBe(201);
    const bob3: TestUser = { ...bob, token: fresh.body.token };
    for (const t of [n1, n2]) expect((await t.api('auth.test', bob3.token)).body).toMatchObject({ ok: true, user_id: bob.id });
    const again = await new TestClient(bob3, n2.url).connect();
    expect((await again.ack('post', { channel, text: 'back' })).ok).toBe(true);
    again.disconnect();
  });

  it('a revocation whose bus signal never came (written in SQL): commands are refused once the cache lapses, and that closes the socket', async () => {
    const ws = await n1.newWorkspace();
    const dee = await n1.newUser(ws);
    const channel = await n1.newChannel(dee, 'lost-signal');
    const { client, revoked } = await watched(dee, n2);
    expect((await client.ack('view', { channel })).ok).toBe(true);
    await n1.pool.query('UPDATE tokens SET revoked_at = now() WHERE id = $1', [tokenId(dee.token)]);
    // The token cache lasts 5 s; then the database answers for every command.
    await waitFor(async () => (await client.ack('view', { channel }).catch(() => ({ ok: false }))).ok === false, 15_000, 'refused');
    await waitFor(() => !client.connected, 5000, 'socket closed');
    expect(revoked).toEqual([{ reason: 'token_revoked' }]);
  });

  it('admin routes check the workspace: another workspace’s admin gets 403, an unknown user or credential 404', async () => {
    const ws = await n1.newWorkspace();
    const other = await n1.newWorkspace('Other');
    const stranger = await n1.newUser(other, 'admin');
    const carol = await n1.newUser(ws);
    expect((await n1.admin('GET', `/workspaces/${ws}/users/${carol.id}/credentials`, undefined, stranger.token)).status).toBe(403);
    expect((await n1.admin('POST', `/workspaces/${ws}/users/${carol.id}/deactivate`, undefined, stranger.token)).status).toBe(403);
    expect((await n1.admin('POST', `/workspaces/${ws}/users/U000000000/deactivate`)).status).toBe(404);
    expect((await n1.admin('POST', `/workspaces/${ws}/users/${carol.id}/credentials/nope/revoke`)).status).toBe(404);
    // Carol's token from another user's path: not found, and still working.
    expect((await n1.admin('POST', `/workspaces/${other}/users/${stranger.id}/credentials/${tokenId(carol.token)}/revoke`)).status).toBe(
      404,
    );
    expect((await n1.api('auth.test', carol.token)).body.ok).toBe(true);
  });
});
