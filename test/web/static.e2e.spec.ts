import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestApp } from '../support/test-app.js';

// The server serves the built web client (a tiny fake web/dist here): cache headers per kind of file,
// a strict CSP on HTML, and the SPA fallback for the client's own routes that never hides a server route.
describe('static web client', () => {
  let t: TestApp;
  let dist: string;
  const INDEX = '<!doctype html><html><head><script type="module" src="/assets/app-3f2a1b.js"></script></head><body></body></html>';
  beforeAll(async () => {
    dist = mkdtempSync(join(tmpdir(), 'atomcast-web-'));
    mkdirSync(join(dist, 'assets'));
    writeFileSync(join(dist, 'index.html'), INDEX);
    writeFileSync(join(dist, 'assets', 'app-3f2a1b.js'), 'console.log("app");');
    writeFileSync(join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    t = await TestApp.start({ WEB_DIST_DIR: dist });
  });
  afterAll(async () => {
    await t.close();
    rmSync(dist, { recursive: true, force: true });
  });

  const get = (path: string, accept = 'text/html,application/xhtml+xml,*/*;q=0.8') => fetch(`${t.url}${path}`, { headers: { accept } });
  const CSP =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

  it('index.html at / is revalidated every time and carries the CSP', async () => {
    for (const path of ['/', '/index.html']) {
      const res = await get(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(res.headers.get('content-security-policy')).toBe(CSP);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await res.text()).toBe(INDEX);
    }
  });

  it('hashed assets are cached for a year, immutable; other files are revalidated; a missing asset is 404', async () => {
    const js = await get('/assets/app-3f2a1b.js', '*/*');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(js.headers.get('x-content-type-options')).toBe('nosniff');
    expect(js.headers.get('content-security-policy')).toBeNull();
    const icon = await get('/favicon.svg', 'image/*');
    expect(icon.status).toBe(200);
    expect(icon.headers.get('cache-control')).toBe('no-cache');
    // An asset that is not there is never answered with the page, even to a browser asking for HTML.
    expect((await get('/assets/app-000000.js')).status).toBe(404);
    expect((await get('/assets/app-000000.js', '*/*')).status).toBe(404);
  });

  it('client routes that ask for HTML get index.html; other unknown paths stay 404', async () => {
    for (const path of ['/signin', '/c/C123', '/c/C123/p/1700000000.000100?x=1']) {
      const res = await get(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-security-policy')).toBe(CSP);
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(await res.text()).toBe(INDEX);
    }
    expect((await get('/signin', 'application/json')).status).toBe(404);
    expect((await get('/../../etc/passwd')).status).not.toBe(500);
    expect(await (await get('/%2e%2e/%2e%2e/etc/passwd')).text()).not.toMatch(/root:/);
  });

  it('never shadows the server: /api, /admin, /auth, /socket.io, /healthz, /readyz answer as before', async () => {
    const api = await get('/api/no.such.method');
    expect(await api.json()).toEqual({ ok: false, error: 'unknown_method' });
    expect(await (await get('/api/')).json()).toEqual({ ok: false, error: 'unknown_method' });
    for (const path of ['/admin/v1/nothing', '/admin', '/auth/nothing', '/auth']) {
      const res = await get(path);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/json/);
    }
    // A parameter too long for a server route is still the router's 414, not the page.
    expect((await get(`/admin/v1/workspaces/${'x'.repeat(500)}`)).status).toBe(414);
    expect((await get('/admin/docs')).headers.get('content-security-policy')).toBeNull();
    expect(await (await get('/healthz')).json()).toEqual({ status: 'ok' });
    expect((await get('/readyz')).headers.get('content-type')).toMatch(/json/);
    expect((await get('/auth/session')).status).toBe(401);
    const io = await get('/socket.io/?EIO=4&transport=polling');
    expect(io.status).toBe(200);
    expect(await io.text()).toMatch(/"sid"/);
  });

  it('without a built client the server starts and serves the API only', async () => {
    const bare = await TestApp.start({ WEB_DIST_DIR: join(dist, 'missing') }, t.db);
    try {
      expect((await fetch(`${bare.url}/`, { headers: { accept: 'text/html' } })).status).toBe(404);
      expect((await fetch(`${bare.url}/healthz`)).status).toBe(200);
    } finally {
      await bare.close();
    }
  });
});
