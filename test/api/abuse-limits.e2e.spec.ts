import WebSocket from 'ws';
import { OPERATOR_TOKEN, TestApp, type TestUser } from '../support/test-app.js';
import { TestClient } from '../realtime/support.js';

/** `{"a":{"a":…}}` nested `levels` deep, as raw JSON (JSON.stringify itself would be fine, but this is what an attacker sends). */
const nested = (levels: number, inner = '1') => '{"a":'.repeat(levels) + inner + '}'.repeat(levels);

const postJson = (url: string, path: string, body: string, token: string) =>
  fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body });

describe('abuse limits', () => {
  describe('payload shape, on every surface', () => {
    let t: TestApp;
    let ada: TestUser;
    let channel: string;

    beforeAll(async () => {
      t = await TestApp.start({ JOBS_DISPATCHER_ENABLED: 'false' });
      ada = await t.newUser(await t.newWorkspace(), 'admin');
      channel = await t.newChannel(ada, 'shapes');
    });
    afterAll(() => t.close());

    it('20,000 levels of JSON: invalid_arguments on /api, 400 on the admin API, no stack trace, nothing written', async () => {
      const before = await t.tableCounts();
      const api = await postJson(
        t.url,
        '/api/chat.postMessage',
        `{"channel":"${channel}","text":"x","blocks":${nested(20_000)}}`,
        ada.token,
      );
      expect(api.status).toBe(200);
      expect(await api.json()).toEqual({ ok: false, error: 'invalid_arguments' });
      const admin = await postJson(
        t.url,
        `/admin/v1/workspaces/${ada.workspace}/ekm`,
        `{"provider":"local","x":${nested(20_000)}}`,
        OPERATOR_TOKEN,
      );
      expect(admin.status).toBe(400);
      const text = await admin.text();
      expect(text).not.toMatch(/\bat \S+ \(|RangeError|stack/);
      expect(await t.tableCounts()).toEqual(before);
    });

    it('20,000 levels over a socket: the command is refused with invalid_arguments and the socket lives on', async () => {
      // A raw Engine.IO / Socket.IO session: socket.io-client's own encoder would overflow walking
      // such a payload, an attacker's client does not.
      const ws = new WebSocket(`${t.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
      const frames: string[] = [];
      const next = (prefix: string) =>
        new Promise<string>((resolve) => {
          const look = () => {
            const i = frames.findIndex((f) => f.startsWith(prefix));
            if (i >= 0) resolve(frames.splice(i, 1)[0]);
            else setTimeout(look, 10);
          };
          look();
        });
      ws.on('message', (data) => {
        const frame = String(data);
        if (frame === '2')
          ws.send('3'); // Engine.IO ping
        else frames.push(frame);
      });
      try {
        await next('0{');
        ws.send(`40${JSON.stringify({ token: ada.token })}`);
        await next('40{');
        ws.send(`42999["post",${nested(20_000, `{"channel":"${channel}","text":"deep"}`)}]`);
        expect(JSON.parse((await next('43999')).slice(5))).toEqual([{ ok: false, error: 'invalid_arguments' }]);
        ws.send(`421["post",{"channel":"${channel}","text":"shallow"}]`);
        expect(JSON.parse((await next('431[')).slice(3))).toEqual([expect.objectContaining({ ok: true })]);
      } finally {
        ws.close();
      }
    });

    it('a lone UTF-16 surrogate is refused with invalid_arguments (JSON body, socket), never stored altered', async () => {
      const before = await t.tableCounts();
      const api = await postJson(t.url, '/api/chat.postMessage', `{"channel":"${channel}","text":"bad \\ud800 half"}`, ada.token);
      expect(await api.json()).toEqual({ ok: false, error: 'invalid_arguments' });
      const client = await new TestClient(ada, t.url).connect();
      try {
        expect(await client.ack('post', { channel, text: 'bad \udc00 half' })).toEqual({ ok: false, error: 'invalid_arguments' });
      } finally {
        client.disconnect();
      }
      expect(await t.tableCounts()).toEqual(before);
      // A whole pair (an emoji) is fine.
      const ok = await postJson(t.url, '/api/chat.postMessage', `{"channel":"${channel}","text":"ok \\ud83d\\ude00"}`, ada.token);
      expect(await ok.json()).toMatchObject({ ok: true, message: { text: 'ok 😀' } });
    });
  });

  describe('limits', () => {
    let t: TestApp;
    let ada: TestUser;

    beforeAll(async () => {
      t = await TestApp.start({
        JOBS_DISPATCHER_ENABLED: 'false',
        AUTH_FAILURES_PER_MINUTE: '3',
        RATE_LIMIT_PER_MINUTE: '6',
        SOCKETS_PER_TOKEN: '2',
        SOCKETS_PER_USER: '3',
      });
      ada = await t.newUser(await t.newWorkspace());
    });
    afterAll(() => t.close());

    it('failed authentication is limited per source address: 429 with Retry-After on /api and /admin, even for a good token', async () => {
      const bad = 'xoxp-1-0000000000000000';
      for (let i = 0; i < 3; i++) expect((await t.api('auth.test', `${bad}${i}`)).body.error).toBe('invalid_auth');
      const api = await t.api('auth.test', ada.token);
      expect(api.status).toBe(429);
      expect(api.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(api.body).toMatchObject({ ok: false, error: 'ratelimited' });
      const admin = await fetch(`${t.url}/admin/v1/workspaces/${ada.workspace}/retention`, {
        headers: { authorization: 'Bearer wrong-operator-token' },
      });
      expect(admin.status).toBe(429);
      expect(admin.headers.get('retry-after')).toMatch(/^\d+$/);
    });
  });

  describe('sockets', () => {
    let t: TestApp;
    let ada: TestUser;

    beforeAll(async () => {
      t = await TestApp.start({
        JOBS_DISPATCHER_ENABLED: 'false',
        RATE_LIMIT_PER_MINUTE: '5',
        SOCKETS_PER_TOKEN: '2',
        SOCKETS_PER_USER: '3',
      });
      ada = await t.newUser(await t.newWorkspace());
    });
    afterAll(() => t.close());

    it('caps sockets per token with connect_error too_many_sockets, and frees the slot on disconnect', async () => {
      const clients = [
        await new TestClient(ada, t.url).connect({ ready: false }),
        await new TestClient(ada, t.url).connect({ ready: false }),
      ];
      const third = new TestClient(ada, t.url);
      await expect(third.connect({ ready: false })).rejects.toMatchObject({ message: 'too_many_sockets' });
      third.disconnect();
      clients[0].disconnect();
      // The server notices the disconnect asynchronously: retry until the slot is free.
      let again: TestClient | undefined;
      for (let i = 0; i < 50 && !again; i++) {
        again = await new TestClient(ada, t.url).connect({ ready: false }).catch(() => undefined);
        if (!again) await new Promise((r) => setTimeout(r, 50));
      }
      expect(again?.connected).toBe(true);
      again!.disconnect();
      clients[1].disconnect();
    });

    it('unknown socket commands spend the budget: past it, every command is ratelimited', async () => {
      const client = await new TestClient(ada, t.url).connect({ ready: false });
      try {
        for (let i = 0; i < 5; i++) expect(await client.ack(`nonsense-${i}`, {})).toEqual({ ok: false, error: 'unknown_command' });
        expect(await client.ack('nonsense', {})).toMatchObject({ ok: false, error: 'ratelimited' });
        expect(await client.ack('sync', { cursors: {} })).toMatchObject({ ok: false, error: 'ratelimited' });
      } finally {
        client.disconnect();
      }
    });
  });
});
