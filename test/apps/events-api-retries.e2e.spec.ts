import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TestApp, type TestUser } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';
import { installApp, type InstalledApp } from '../support/apps.js';

// A request URL that fails: each event is tried once and retried three times with Slack's retry
// headers, then the app is paused with the reason visible to the admin; once fixed and resumed,
// delivery continues in order from the event that failed.

interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
  body: Record<string, any>;
}

describe('Events API over HTTP: retries, pause, resume', () => {
  let t: TestApp;
  let server: Server;
  let url: string;
  let workspace: string;
  let ada: TestUser;
  let installed: InstalledApp;
  let channel: string;
  let mode: 'ok' | 'fail' = 'ok';
  let hangNext = false;
  const received: Received[] = [];
  const texts = () => received.filter((r) => r.body.type === 'event_callback').map((r) => r.body.event.text);

  beforeAll(async () => {
    t = await TestApp.start({ APPS_ALLOW_LOOPBACK: 'true', APPS_RETRY_BACKOFF_MS: '50', APPS_HTTP_TIMEOUT_MS: '500' });
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        const body = JSON.parse(raw);
        received.push({ headers: req.headers, raw, body });
        if (body.type === 'url_verification') return res.end(JSON.stringify({ challenge: body.challenge }));
        if (mode === 'fail' && hangNext) {
          hangNext = false;
          return; // never answers: the delivery times out
        }
        res.statusCode = mode === 'ok' ? 200 : 500;
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
    workspace = await t.newWorkspace();
    ada = await t.newUser(workspace, 'member', 'ada');
    installed = await installApp(t, workspace, { name: 'Flaky', events: ['message.channels'], request_url: url });
    channel = await t.newChannel(ada, 'ops', false, [installed.bot]);
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await t.close();
  });

  const post = async (text: string) => expect((await t.api('chat.postMessage', ada.token, { channel, text })).body.ok).toBe(true);

  it('verified the URL with a signed challenge at install', () => {
    expect(received[0].body).toMatchObject({ type: 'url_verification' });
    expect(typeof received[0].body.challenge).toBe('string');
  });

  it('retries three times with the retry headers, pauses, and resumes in order once fixed', async () => {
    await post('one');
    await waitFor(() => texts().includes('one'), 15_000, 'the first event');
    mode = 'fail';
    hangNext = true;
    await post('two');
    await post('three');
    await waitFor(async () => (await t.admin('GET', `/workspaces/${workspace}/apps/${installed.id}`)).body.app.paused, 15_000, 'the pause');
    const app = (await t.admin('GET', `/workspaces/${workspace}/apps/${installed.id}`)).body.app;
    expect(app.paused_reason).toMatch(/^http_error \(HTTP 500\) on 4 attempts/);
    const tries = received.filter((r) => r.body.event?.text === 'two');
    expect(tries.map((r) => [r.headers['x-slack-retry-num'], r.headers['x-slack-retry-reason']])).toEqual([
      [undefined, undefined],
      ['1', 'http_timeout'],
      ['2', 'http_error'],
      ['3', 'http_error'],
    ]);
    expect(new Set(tries.map((r) => r.body.event_id)).size).toBe(1);
    expect(texts()).not.toContain('three');

    mode = 'ok';
    const resumed = await t.admin('POST', `/workspaces/${workspace}/apps/${installed.id}/resume`);
    expect(resumed.body.app).toMatchObject({ paused: false, paused_reason: null });
    await post('four');
    await waitFor(() => texts().includes('four'), 15_000, 'delivery after the resume');
    expect(texts()).toEqual(['one', 'two', 'two', 'two', 'two', 'two', 'three', 'four']);
  });

  it('signs every request with the v0 scheme over the raw body and a fresh timestamp', () => {
    for (const r of received) {
      const ts = Number(r.headers['x-slack-request-timestamp']);
      expect(Math.abs(Date.now() / 1000 - ts)).toBeLessThan(300);
      const expected = `v0=${createHmac('sha256', installed.signingSecret).update(`v0:${ts}:${r.raw}`).digest('hex')}`;
      expect(r.headers['x-slack-signature']).toBe(expected);
    }
  });

  it('sends the event_callback shape Slack does', () => {
    const one = received.find((r) => r.body.event?.text === 'one')!.body;
    expect(one).toMatchObject({
      type: 'event_callback',
      team_id: workspace,
      api_app_id: installed.id,
      event: { type: 'message', channel, user: ada.id, text: 'one', channel_type: 'channel' },
      authorizations: [{ team_id: workspace, user_id: installed.botUserId, is_bot: true }],
    });
    expect(one.event_id).toMatch(/^Ev/);
    expect(one.event.ts).toBe(one.event.event_ts);
  });
});
