import { io, type Socket } from 'socket.io-client';
import { TestApp, type TestUser } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

// The browser's side of signing in, as the web client does it: a sign-in link's code for an HttpOnly
// cookie, the CSRF header on /api, the cookie on the socket handshake from our own origin only.
const PUBLIC_URL = 'http://chat.example.test';

describe('web sessions', () => {
  let t: TestApp;
  let ws: string;
  let admin: TestUser;
  beforeAll(async () => {
    t = await TestApp.start({ PUBLIC_URL });
    ws = await t.newWorkspace('Web');
    admin = await t.newUser(ws, 'admin', 'boss');
  });
  afterAll(() => t.close());

  /** A sign-in link for `user`, made by the workspace's admin; returns the code in its fragment. */
  async function linkCode(user: TestUser): Promise<string> {
    const res = await t.admin('POST', `/workspaces/${ws}/users/${user.id}/sign-in-links`, undefined, admin.token);
    expect(res.status).toBe(201);
    const url = new URL(res.body.url as string);
    expect(`${url.origin}${url.pathname}`).toBe(`${PUBLIC_URL}/signin`);
    expect(Date.parse(res.body.expires_at as string)).toBeGreaterThan(Date.now());
    return new URLSearchParams(url.hash.slice(1)).get('code')!;
  }

  const signin = (code: unknown, headers: Record<string, string> = {}) =>
    fetch(`${t.url}/auth/signin`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ code }),
    });

  /** Signs `user` in; returns the Cookie header value, the CSRF token and the Set-Cookie line. */
  async function signedIn(user: TestUser) {
    const res = await signin(await linkCode(user));
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, any>;
    const setCookie = res.headers.get('set-cookie')!;
    return { cookie: setCookie.split(';')[0], csrf: body.csrf_token as string, setCookie, body };
  }

  const api = (method: string, headers: Record<string, string>, args: Record<string, string> = {}) =>
    fetch(`${t.url}/api/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(args),
    }).then(async (r) => (await r.json()) as Record<string, any>);

  const session = (cookie?: string) =>
    fetch(`${t.url}/auth/session`, { headers: cookie ? { cookie } : {} }).then(async (r) => ({
      status: r.status,
      body: (await r.json()) as any,
    }));

  function cookieSocket(cookie: string | undefined, origin: string | undefined) {
    const extraHeaders: Record<string, string> = {};
    if (cookie) extraHeaders.cookie = cookie;
    if (origin) extraHeaders.origin = origin;
    const socket = io(t.url, { transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders });
    return new Promise<Socket>((resolve, reject) => {
      socket.once('connect', () => resolve(socket));
      socket.once('connect_error', (err) => {
        socket.close();
        reject(err);
      });
    });
  }

  it('a sign-in link works once: HttpOnly SameSite cookie, who signed in and a CSRF token; the second use is invalid_code', async () => {
    const ada = await t.newUser(ws, 'member', 'ada');
    const code = await linkCode(ada);
    const first = await signin(code);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({
      ok: true,
      user: { id: ada.id, name: 'ada', real_name: '' },
      workspace: { id: ws, name: 'Web' },
      csrf_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    const setCookie = first.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^atomcast_session=xoxc-[0-9a-z]{12}-[A-Za-z0-9_-]{32};/);
    const attributes = setCookie.split(';').map((a) => a.trim().toLowerCase());
    expect(attributes).toEqual(expect.arrayContaining(['httponly', 'samesite=lax', 'path=/']));
    expect(attributes).not.toContain('secure'); // PUBLIC_URL is http here
    expect(first.headers.get('cache-control')).toBe('no-store');

    const again = await signin(code);
    expect(again.status).toBe(401);
    expect(await again.json()).toEqual({ ok: false, error: 'invalid_code' });
    for (const bad of ['x'.repeat(43), 'short', 42, undefined]) expect((await signin(bad)).status).toBe(401);
    // Only one session was opened.
    const listed = await t.admin('GET', `/workspaces/${ws}/users/${ada.id}/credentials`);
    expect(listed.body.credentials.filter((c: { kind: string }) => c.kind === 'session')).toHaveLength(1);
  });

  it('an expired link is refused, and so is a link posted from another site', async () => {
    const bob = await t.newUser(ws, 'member', 'bob');
    const code = await linkCode(bob);
    expect((await signin(code, { origin: 'https://evil.example' })).status).toBe(403);
    await t.pool.query(`UPDATE signin_codes SET expires_at = now() - interval '1 second' WHERE user_id = $1`, [bob.id]);
    const res = await signin(code);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ ok: false, error: 'invalid_code' });
  });

  it('/api takes the cookie only with the CSRF header of that session; /auth/session answers who it is', async () => {
    const cleo = await t.newUser(ws, 'member', 'cleo');
    const dan = await t.newUser(ws, 'member', 'dan');
    const c = await signedIn(cleo);
    const d = await signedIn(dan);
    expect(await api('auth.test', { cookie: c.cookie, 'x-csrf-token': c.csrf })).toMatchObject({ ok: true, user_id: cleo.id });
    expect(await api('auth.test', { cookie: c.cookie })).toEqual({ ok: false, error: 'invalid_auth' });
    expect(await api('auth.test', { cookie: c.cookie, 'x-csrf-token': d.csrf })).toEqual({ ok: false, error: 'invalid_auth' });
    expect(await api('auth.test', { cookie: c.cookie, 'x-csrf-token': 'A'.repeat(43) })).toEqual({ ok: false, error: 'invalid_auth' });
    // The session credential is not an API token: as a Bearer it is refused.
    const credential = c.cookie.split('=')[1];
    expect((await t.api('auth.test', credential)).body).toEqual({ ok: false, error: 'invalid_auth' });
    // A cookie-authenticated write that lacks the header writes nothing.
    const before = await t.tableCounts();
    expect(await api('conversations.create', { cookie: c.cookie }, { name: 'csrf-less' })).toEqual({ ok: false, error: 'invalid_auth' });
    expect(await t.tableCounts()).toEqual(before);
    expect((await api('conversations.create', { cookie: c.cookie, 'x-csrf-token': c.csrf }, { name: 'with-csrf' })).ok).toBe(true);

    const s = await session(c.cookie);
    expect(s.status).toBe(200);
    expect(s.body).toEqual({ ...c.body, csrf_token: c.csrf });
    expect(await session()).toEqual({ status: 401, body: { ok: false, error: 'not_authed' } });
    expect((await session('atomcast_session=xoxc-000000000000-00000000000000000000000000000000')).status).toBe(401);
  });

  it('the socket handshake takes the cookie from our own origin only', async () => {
    const eve = await t.newUser(ws, 'member', 'eve');
    const { cookie } = await signedIn(eve);
    for (const origin of ['https://evil.example', 'http://chat.example.test:8080', undefined])
      await expect(cookieSocket(cookie, origin)).rejects.toThrow('invalid_origin');
    await expect(cookieSocket(undefined, PUBLIC_URL)).rejects.toThrow('not_authed');
    const socket = await cookieSocket(cookie, PUBLIC_URL);
    expect(socket.connected).toBe(true);
    const channel = (await api('conversations.create', { authorization: `Bearer ${eve.token}` }, { name: 'eve-room' })).channel.id;
    expect(await socket.timeout(5000).emitWithAck('post', { channel, text: 'from the browser' })).toMatchObject({ ok: true, channel });
    socket.close();
  });

  it('sign-out needs the CSRF header, revokes the session, closes its open socket with `revoked`, and clears the cookie', async () => {
    const fay = await t.newUser(ws, 'member', 'fay');
    const s = await signedIn(fay);
    const socket = await cookieSocket(s.cookie, PUBLIC_URL);
    const revoked: unknown[] = [];
    socket.on('revoked', (r) => revoked.push(r));
    const signout = (headers: Record<string, string>) => fetch(`${t.url}/auth/signout`, { method: 'POST', headers });

    expect((await signout({ cookie: s.cookie })).status).toBe(401);
    expect((await session(s.cookie)).status).toBe(200);
    const res = await signout({ cookie: s.cookie, 'x-csrf-token': s.csrf });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    expect(res.headers.get('set-cookie')).toMatch(/^atomcast_session=; Max-Age=0;/);
    await waitFor(() => socket.disconnected, 5000, 'signed-out socket closed');
    expect(revoked).toEqual([{ reason: 'signed_out' }]);
    expect((await session(s.cookie)).status).toBe(401);
    expect(await api('auth.test', { cookie: s.cookie, 'x-csrf-token': s.csrf })).toEqual({ ok: false, error: 'invalid_auth' });
    await expect(cookieSocket(s.cookie, PUBLIC_URL)).rejects.toThrow('invalid_auth');
  });

  it('an expired session is refused everywhere', async () => {
    const gus = await t.newUser(ws, 'member', 'gus');
    const s = await signedIn(gus);
    await t.pool.query(`UPDATE tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1 AND kind = 'session'`, [gus.id]);
    expect((await session(s.cookie)).status).toBe(401);
    expect(await api('auth.test', { cookie: s.cookie, 'x-csrf-token': s.csrf })).toEqual({ ok: false, error: 'invalid_auth' });
    await expect(cookieSocket(s.cookie, PUBLIC_URL)).rejects.toThrow('invalid_auth');
  });

  it('an open socket of a session closes with `revoked` when the session expires', async () => {
    const short = await TestApp.start({ PUBLIC_URL, SESSION_TTL_MS: '1500' }, t.db);
    try {
      const hal = await short.newUser(ws, 'member', 'hal');
      const link = await short.admin('POST', `/workspaces/${ws}/users/${hal.id}/sign-in-links`);
      const code = new URLSearchParams(new URL(link.body.url as string).hash.slice(1)).get('code');
      const res = await fetch(`${short.url}/auth/signin`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code }),
      });
      const cookie = res.headers.get('set-cookie')!.split(';')[0];
      const socket = await new Promise<Socket>((resolve, reject) => {
        const s = io(short.url, {
          transports: ['websocket'],
          reconnection: false,
          forceNew: true,
          extraHeaders: { cookie, origin: PUBLIC_URL },
        });
        s.once('connect', () => resolve(s));
        s.once('connect_error', reject);
      });
      const revoked: unknown[] = [];
      socket.on('revoked', (r) => revoked.push(r));
      await waitFor(() => socket.disconnected, 10_000, 'expired session socket closed');
      expect(revoked).toEqual([{ reason: 'session_expired' }]);
      expect((await fetch(`${short.url}/auth/session`, { headers: { cookie } })).status).toBe(401);
    } finally {
      await short.close();
    }
  });
});
