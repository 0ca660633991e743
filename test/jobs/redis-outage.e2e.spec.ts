import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventStore } from '../../src/event-store/event-store.js';
import { TestApp, type TestUser } from '../support/test-app.js';
import { freePort } from '../support/free-port.js';
import { waitFor } from '../support/wait-for.js';

/** A Redis of this test's own, so stopping it disturbs no other test file. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  await waitFor(
    async () => {
      const probe = spawn('redis-cli', ['-p', String(port), 'ping'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      probe.stdout!.on('data', (d) => (out += d));
      await new Promise((r) => probe.on('close', r));
      return out.includes('PONG');
    },
    30_000,
    'redis-server to answer',
  ); // generous: a loaded 2-core box starts it slowly
  return child;
}

function stopRedis(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.on('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe('Redis down while messages are posted', () => {
  let redis: ChildProcess;
  let port: number;
  let site: Server;
  let siteUrl: string;
  let t: TestApp;
  let ada: TestUser;
  let ws: string;

  beforeAll(async () => {
    port = await freePort();
    redis = await startRedis(port);
    site = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<html><head><meta property="og:title" content="Atomcast docs"><meta property="og:site_name" content="Docs"></head></html>');
    });
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
    siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    t = await TestApp.start({
      REDIS_URL: `redis://127.0.0.1:${port}`,
      UNFURL_ALLOW_LOOPBACK: 'true',
      JOBS_DISPATCH_INTERVAL_MS: '50',
      EKM_LOCAL_MASTER_KEY: randomBytes(32).toString('base64'),
    });
    ws = await t.newWorkspace();
    ada = await t.newUser(ws);
  });
  afterAll(async () => {
    await t.close();
    await stopRedis(redis);
    await new Promise((r) => site.close(r));
  });

  it('posting still works, and the unfurl jobs run once Redis is back', async () => {
    const channel = await t.newChannel(ada, 'links');
    await stopRedis(redis);

    const posted: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await t.api('chat.postMessage', ada.token, { channel, text: `see ${siteUrl}/page/${i}` });
      expect(res.body).toMatchObject({ ok: true });
      posted.push(res.body.ts);
    }
    const store = t.app.get(EventStore);
    const unfurled = async () => (await store.readChannel(channel, 0, 100)).filter((e) => e.type === 'message_changed');
    expect(await unfurled()).toEqual([]);

    redis = await startRedis(port);
    await waitFor(async () => (await unfurled()).length === 3, 30_000, 'three unfurls after Redis returned');
    const changed = await unfurled();
    expect(changed.map((e) => (e.message as { ts: string }).ts).sort()).toEqual([...posted].sort());
    expect(changed.every((e) => (e.message as { attachments: Array<{ title: string }> }).attachments[0].title === 'Atomcast docs')).toBe(
      true,
    );
  });

  it('admin requests that start runs answer at once, and each run is carried out once when Redis is back', async () => {
    const channel = await t.newChannel(ada, 'secrets');
    await t.api('chat.postMessage', ada.token, { channel, text: 'sealed once Redis is back' });
    await stopRedis(redis);

    const timed = async (method: string, path: string, body?: unknown) => {
      const started = Date.now();
      const res = await t.admin(method, path, body);
      return { ...res, ms: Date.now() - started };
    };
    const retention = await timed('POST', `/workspaces/${ws}/retention/runs`);
    const ekm = await timed('POST', `/workspaces/${ws}/ekm`, { provider: 'local' });
    expect([retention.status, ekm.status]).toEqual([202, 202]);
    expect(retention.ms).toBeLessThan(1000);
    expect(ekm.ms).toBeLessThan(1000);
    expect(retention.body).toMatchObject({ status: 'queued', deleted: '0' });
    expect(ekm.body.run).toMatchObject({ kind: 'encrypt', status: 'queued', done: '0' });

    // Recorded once each, and not started while Redis is away.
    await new Promise((r) => setTimeout(r, 300));
    const runs = async () =>
      (
        await t.pool.query<{ id: string; state: string }>('SELECT id, state FROM job_runs WHERE workspace_id = $1 ORDER BY created_at', [
          ws,
        ])
      ).rows;
    expect(await runs()).toEqual([
      { id: retention.body.id, state: 'queued' },
      { id: ekm.body.run.id, state: 'queued' },
    ]);

    redis = await startRedis(port);
    await waitFor(async () => (await runs()).every((r) => r.state === 'done'), 30_000, 'both runs done after Redis returned');
    // Every body of the workspace sealed once: the three of the first test, and this one.
    expect((await t.admin('GET', `/workspaces/${ws}/ekm/runs/${ekm.body.run.id}`)).body).toMatchObject({ status: 'done', done: '4' });
    const audit = (await t.admin('GET', `/workspaces/${ws}/audit`)).body.entries.map((e: { action: string }) => e.action);
    expect(audit.filter((a: string) => a.startsWith('ekm.'))).toEqual(['ekm.encrypt_done', 'ekm.enable']); // newest first
    expect((await t.api('conversations.history', ada.token, { channel })).body.messages[0].text).toBe('sealed once Redis is back');
  });
});
