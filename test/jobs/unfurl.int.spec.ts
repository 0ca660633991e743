import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { EventStore } from '../../src/event-store/event-store.js';
import { safeFetch } from '../../src/jobs/unfurl/safe-fetch.js';
import { UnfurlRepository } from '../../src/jobs/unfurl/unfurl.repository.js';
import { UnfurlRetryable, UnfurlService, type UnfurlOptions } from '../../src/jobs/unfurl/unfurl.service.js';
import { TestApp, type TestUser } from '../support/test-app.js';
import { SITE_TEST_CERT, SITE_TEST_KEY, TEST_CA } from './unfurl-tls-fixture.js';

const ARTICLE = `<!doctype html><html><head>
  <title>Plain title</title>
  <meta property="og:title" content="Launch day">
  <meta property="og:description" content="We shipped   the thing.">
  <meta property="og:image" content="/img/cover.png">
  <meta property="og:site_name" content="Acme Blog">
</head><body>hello</body></html>`;

/** A local site; `hits` counts requests per path so tests can assert what was (not) fetched. */
class LocalSite {
  readonly hits = new Map<string, number>();
  connections = 0;
  private readonly routes = new Map<string, (req: http.IncomingMessage, res: http.ServerResponse) => void>();
  readonly server = http.createServer((req, res) => {
    const path = new URL(req.url!, 'http://x').pathname;
    this.hits.set(path, (this.hits.get(path) ?? 0) + 1);
    const route = this.routes.get(path);
    if (route) route(req, res);
    else res.writeHead(404).end();
  });
  port = 0;

  constructor(readonly host: string) {
    this.server.on('connection', () => this.connections++);
  }

  async start(): Promise<this> {
    this.server.listen(0, this.host);
    await once(this.server, 'listening');
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  on(path: string, handler: (req: http.IncomingMessage, res: http.ServerResponse) => void): string {
    this.routes.set(path, handler);
    return `http://${this.host}:${this.port}${path}`;
  }

  hitsOf(path: string): number {
    return this.hits.get(path) ?? 0;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }
}

const html = (body: string) => (_req: http.IncomingMessage, res: http.ServerResponse) =>
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body);

describe('link unfurls', () => {
  let t: TestApp;
  let site: LocalSite; // 127.0.0.1
  let other: LocalSite; // 127.0.0.2: loopback too, but outside the allow rule of some tests
  let ada: TestUser;
  let events: EventStore;
  let channelCount = 0;

  // Names resolve through this table, never the network; unknown names fail like NXDOMAIN.
  const dnsTable: Record<string, string[]> = {};
  const resolve = async (host: string) => {
    const addresses = dnsTable[host];
    if (!addresses) throw Object.assign(new Error(`not found: ${host}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  const loopbackOptions: UnfurlOptions = {
    allowLoopback: true,
    timeoutMs: 5000,
    maxBytes: 64 * 1024,
    maxRedirects: 3,
    maxUrls: 3,
    resolve,
  };
  const unfurler = (options: Partial<UnfurlOptions> = {}) =>
    new UnfurlService(events, new UnfurlRepository(t.pool), { ...loopbackOptions, ...options });

  beforeAll(async () => {
    // Only the API role: no queue worker may unfurl behind the tests' back.
    t = await TestApp.start({ ROLES: 'api', JOBS_DISPATCHER_ENABLED: 'false' });
    events = t.app.get(EventStore);
    site = await new LocalSite('127.0.0.1').start();
    other = await new LocalSite('127.0.0.2').start();
    dnsTable['site.test'] = ['127.0.0.1'];
    const ws = await t.newWorkspace();
    ada = await t.newUser(ws);
  });
  afterAll(async () => {
    await site.close();
    await other.close();
    await t.close();
  });

  async function post(text: string, author = ada) {
    const channel = await t.newChannel(author, `unfurl-${++channelCount}`);
    const posted = await t.api('chat.postMessage', author.token, { channel, text });
    expect(posted.body.ok).toBe(true);
    return { channel, seq: posted.body.seq as number, ts: posted.body.ts as string };
  }

  const changedEvents = async (channel: string) => (await events.readChannel(channel, 0, 1000)).filter((e) => e.type === 'message_changed');

  it('appends the preview as message_changed with Slack attachments, shown in history too', async () => {
    site.on('/article', html(ARTICLE));
    const url = `http://site.test:${site.port}/article`;
    const { channel, seq, ts } = await post(`launch notes: <${url}|the post>`);

    const outcome = await unfurler().unfurlMessage(channel, seq);

    const attachment = {
      id: 1,
      from_url: url,
      original_url: url,
      title: 'Launch day',
      title_link: url,
      text: 'We shipped the thing.',
      image_url: `http://site.test:${site.port}/img/cover.png`,
      service_name: 'Acme Blog',
      fallback: 'Acme Blog: Launch day',
    };
    expect(outcome).toEqual({ status: 'unfurled', seq: seq + 1, attachments: [attachment] });
    const after = await events.readChannel(channel, seq, 10);
    expect(after).toEqual([
      {
        channel,
        seq: seq + 1,
        ts: expect.any(String),
        type: 'message_changed',
        user: ada.id,
        message: { type: 'message', user: ada.id, text: `launch notes: <${url}|the post>`, ts, attachments: [attachment] },
      },
    ]);
    const history = await t.api('conversations.history', ada.token, { channel });
    expect(history.body.messages).toEqual([expect.objectContaining({ ts, attachments: [attachment] })]);
  });

  it('re-running the same job appends nothing and fetches nothing', async () => {
    const url = site.on('/again', html(ARTICLE));
    const { channel, seq } = await post(`see ${url}`);
    const service = unfurler();
    expect((await service.unfurlMessage(channel, seq)).status).toBe('unfurled');
    expect(await service.unfurlMessage(channel, seq)).toEqual({ status: 'up_to_date' });
    expect(await service.unfurlMessage(channel, seq)).toEqual({ status: 'up_to_date' });
    expect(await changedEvents(channel)).toHaveLength(1);
    expect(site.hitsOf('/again')).toBe(1);
  });

  it('deleting an unfurled message deletes its preview too', async () => {
    const url = site.on('/then-deleted', html(ARTICLE));
    const { channel, seq, ts } = await post(url);
    expect((await unfurler().unfurlMessage(channel, seq)).status).toBe('unfurled');
    expect((await t.api('chat.delete', ada.token, { channel, ts })).body.ok).toBe(true);
    const { rows } = await t.pool.query('SELECT attachments FROM messages WHERE channel_id = $1 AND seq = $2', [channel, seq]);
    expect(rows).toEqual([{ attachments: null }]);
    expect(await unfurler().unfurlMessage(channel, seq)).toEqual({ status: 'gone' });
  });

  it('makes no preview in an EKM workspace, where it would store the link in clear', async () => {
    const url = site.on('/ekm', html(ARTICLE));
    const bob = await t.newUser(await t.newWorkspace('Regulated'));
    // Posted before EKM was enabled, so the body is still plaintext until the encryption job reaches it.
    const { channel, seq } = await post(url, bob);
    await t.pool.query(`INSERT INTO ekm_workspaces (workspace_id, provider, key_ref) VALUES ($1, 'local', 'v1')`, [bob.workspace]);
    expect(await unfurler().unfurlMessage(channel, seq)).toEqual({ status: 'encrypted' });
    expect(site.hitsOf('/ekm')).toBe(0);
    expect(await changedEvents(channel)).toEqual([]);
  });

  it('refuses a redirect to an address outside the allow rule without connecting to it', async () => {
    const target = other.on('/internal', html(ARTICLE));
    const url = site.on('/to-internal', (_req, res) => res.writeHead(302, { location: target }).end());
    const { channel, seq } = await post(`look ${url}`);
    const onlySite = { allowLoopback: false, allowCidrs: ['127.0.0.1/32'] };

    await expect(safeFetch(url, { ...loopbackOptions, ...onlySite })).rejects.toMatchObject({ reason: 'denied_address', retryable: false });
    expect(await unfurler(onlySite).unfurlMessage(channel, seq)).toEqual({ status: 'up_to_date' });

    expect(site.hitsOf('/to-internal')).toBe(2);
    expect(other.connections).toBe(0); // refused before a socket was opened
    expect(await changedEvents(channel)).toEqual([]);
    // The same server is fine once its address is allowed.
    await expect(safeFetch(url, loopbackOptions)).resolves.toMatchObject({ url: new URL(target) });
  });

  it('refuses redirects to metadata, private and non-http targets, and loops', async () => {
    const redirect = (path: string, location: string) => site.on(path, (_req, res) => res.writeHead(301, { location }).end());
    const cases: Array<[string, string]> = [
      [redirect('/to-metadata', 'http://169.254.169.254/latest/meta-data/'), 'denied_address'],
      [redirect('/to-metadata-v6', 'http://[fd00:ec2::254]/'), 'denied_address'],
      [redirect('/to-private', 'http://10.0.0.1/admin'), 'denied_address'],
      [redirect('/to-mapped', 'http://[::ffff:10.0.0.1]/'), 'denied_address'],
      [redirect('/to-file', 'file:///etc/passwd'), 'bad_url'],
      [redirect('/loop', '/loop'), 'too_many_redirects'],
    ];
    for (const [url, reason] of cases) {
      await expect(safeFetch(url, loopbackOptions)).rejects.toMatchObject({ reason, retryable: false });
    }
    expect(site.hitsOf('/loop')).toBe(loopbackOptions.maxRedirects + 1);
  });

  it('refuses names that resolve to a denied address, even among public ones', async () => {
    dnsTable['mixed.test'] = ['93.184.216.34', '10.0.0.5'];
    dnsTable['meta.test'] = ['169.254.169.254'];
    for (const host of ['mixed.test', 'meta.test']) {
      await expect(safeFetch(`http://${host}/`, loopbackOptions)).rejects.toMatchObject({ reason: 'denied_address' });
    }
    await expect(safeFetch('http://nowhere.test/', loopbackOptions)).rejects.toMatchObject({ reason: 'dns_failed', retryable: false });
    await expect(safeFetch('ftp://site.test/', loopbackOptions)).rejects.toMatchObject({ reason: 'bad_url' });
  });

  it('connects to the address it checked, so a DNS answer that changes later cannot redirect it', async () => {
    const url = site.on('/rebind', html(ARTICLE)).replace('127.0.0.1', 'rebind.test');
    const answers = [['127.0.0.1'], ['10.0.0.1']];
    let lookups = 0;
    const rebinding = async () => answers[Math.min(lookups++, 1)].map((address) => ({ address, family: 4 }));
    const page = await safeFetch(url, { ...loopbackOptions, resolve: rebinding });
    expect(page.html).toContain('Launch day');
    expect(lookups).toBe(1);
    expect(site.hitsOf('/rebind')).toBe(1);
  });

  it('over https, verifies the certificate against the hostname while connecting to the pinned address', async () => {
    const server = https.createServer({ cert: SITE_TEST_CERT, key: SITE_TEST_KEY }, (_req, res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end(ARTICLE),
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const port = (server.address() as AddressInfo).port;
      const page = await safeFetch(`https://site.test:${port}/`, { ...loopbackOptions, ca: [TEST_CA] });
      expect(page.html).toContain('Launch day');
      // An untrusted certificate, or one for another name, is a final refusal.
      await expect(safeFetch(`https://site.test:${port}/`, loopbackOptions)).rejects.toMatchObject({
        reason: 'tls_failed',
        retryable: false,
      });
      dnsTable['other.test'] = ['127.0.0.1'];
      await expect(safeFetch(`https://other.test:${port}/`, { ...loopbackOptions, ca: [TEST_CA] })).rejects.toMatchObject({
        reason: 'tls_failed',
      });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('times out on a slow server and asks for a retry', async () => {
    const url = site.on('/slow', () => {}); // never answers; closed in afterAll
    await expect(safeFetch(url, { ...loopbackOptions, timeoutMs: 200 })).rejects.toMatchObject({ reason: 'timeout', retryable: true });
    const slowBody = site.on('/slow-body', (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).write('<html><head>'));
    await expect(safeFetch(slowBody, { ...loopbackOptions, timeoutMs: 200 })).rejects.toMatchObject({ reason: 'timeout', retryable: true });

    const { channel, seq } = await post(`slow ${url}`);
    await expect(unfurler({ timeoutMs: 200 }).unfurlMessage(channel, seq)).rejects.toBeInstanceOf(UnfurlRetryable);
    expect(await changedEvents(channel)).toEqual([]);
  });

  it('a failing server (500) is retried; the attempt that succeeds appends exactly one event', async () => {
    let failures = 1;
    const url = site.on('/flaky', (req, res) => (failures-- > 0 ? res.writeHead(500).end('oops') : html(ARTICLE)(req, res)));
    const { channel, seq } = await post(`flaky ${url}`);
    const service = unfurler();

    const first = service.unfurlMessage(channel, seq);
    await expect(first).rejects.toBeInstanceOf(UnfurlRetryable);
    await expect(first).rejects.toMatchObject({ reasons: ['http_500'] });
    expect(await changedEvents(channel)).toEqual([]);

    expect((await service.unfurlMessage(channel, seq)).status).toBe('unfurled');
    expect(await service.unfurlMessage(channel, seq)).toEqual({ status: 'up_to_date' });
    expect(await changedEvents(channel)).toHaveLength(1);
  });

  it('on the last attempt keeps the links that did unfurl', async () => {
    const good = site.on('/good-last', html(ARTICLE));
    const bad = site.on('/down', (_req, res) => res.writeHead(503).end());
    const { channel, seq } = await post(`${good} and ${bad}`);
    await expect(unfurler().unfurlMessage(channel, seq)).rejects.toMatchObject({ reasons: ['http_503'] });
    const last = await unfurler().unfurlMessage(channel, seq, { lastAttempt: true });
    expect(last).toMatchObject({ status: 'unfurled', attachments: [{ original_url: good }] });
    expect(await changedEvents(channel)).toHaveLength(1);
  });

  it('refuses non-HTML content and oversized bodies, without retrying', async () => {
    const json = site.on('/data.json', (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"a":1}'));
    const big = 'x'.repeat(200 * 1024);
    const declared = site.on('/big', html(`<html><head><title>Big</title></head><body>${big}</body></html>`));
    const chunked = site.on('/big-chunked', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }); // no content-length: the cap applies while reading
      res.write('<html><head><title>Big</title></head><body>');
      for (let i = 0; i < 20; i++) res.write(big.slice(0, 16 * 1024));
      res.end('</body></html>');
    });
    await expect(safeFetch(json, loopbackOptions)).rejects.toMatchObject({ reason: 'bad_content_type', retryable: false });
    await expect(safeFetch(declared, loopbackOptions)).rejects.toMatchObject({ reason: 'too_large', retryable: false });
    await expect(safeFetch(chunked, loopbackOptions)).rejects.toMatchObject({ reason: 'too_large', retryable: false });
    await expect(safeFetch(site.on('/missing', () => {}).replace('/missing', '/nope'), loopbackOptions)).rejects.toMatchObject({
      reason: 'http_404',
      retryable: false,
    });

    const { channel, seq } = await post(`${json} ${declared} ${chunked}`);
    expect(await unfurler().unfurlMessage(channel, seq)).toEqual({ status: 'up_to_date' });
    expect(await changedEvents(channel)).toEqual([]);
  });

  it('after an edit, keeps the previews of links still there and drops the others, announcing the change', async () => {
    const first = site.on('/first', html(ARTICLE));
    const second = site.on('/second', html(ARTICLE));
    const { channel, seq, ts } = await post(`${first} and ${second}`);
    expect((await unfurler().unfurlMessage(channel, seq)).status).toBe('unfurled');
    const fetched = site.hitsOf('/first') + site.hitsOf('/second');

    expect((await t.api('chat.update', ada.token, { channel, ts, text: `only ${second} now` })).body.ok).toBe(true);
    const pruned = await unfurler().unfurlMessage(channel, seq);
    expect(pruned).toMatchObject({ status: 'unfurled', attachments: [{ id: 1, original_url: second }] });
    expect(site.hitsOf('/first') + site.hitsOf('/second')).toBe(fetched); // the kept preview is not fetched again

    expect((await t.api('chat.update', ada.token, { channel, ts, text: 'no links at all' })).body.ok).toBe(true);
    expect(await unfurler().unfurlMessage(channel, seq)).toMatchObject({ status: 'unfurled', attachments: [] });
    const [message] = (await t.api('conversations.history', ada.token, { channel })).body.messages;
    expect(message.attachments).toBeUndefined();
    expect(await unfurler().unfurlMessage(channel, seq)).toEqual({ status: 'no_links' });
    // Two edits and three changes of previews (added, pruned, removed), each its own message_changed.
    expect(await changedEvents(channel)).toHaveLength(5);
    const last = (await changedEvents(channel)).at(-1)!;
    expect(last.message).toEqual(expect.objectContaining({ text: 'no links at all' }));
    expect(last.message).not.toHaveProperty('attachments');
  });

  it('skips malformed URLs and unfurls the good one', async () => {
    const url = site.on('/good', html(ARTICLE));
    const { channel, seq } = await post(`broken http://[::1 and <https://:80/|x> and http://%%/y then ${url}`);
    const outcome = await unfurler().unfurlMessage(channel, seq);
    expect(outcome).toMatchObject({ status: 'unfurled', attachments: [{ original_url: url, title: 'Launch day' }] });

    const before = site.connections;
    const only = await post('nothing here: http://[::1 <https://:80/|x> http://%%/y <mailto:a@b.example>');
    expect(await unfurler().unfurlMessage(only.channel, only.seq)).toEqual({ status: 'no_links' });
    expect(site.connections).toBe(before);
    expect(await changedEvents(only.channel)).toEqual([]);
  });

  it("a link to a SIIT or platform address is skipped and the message's other link still unfurls", async () => {
    const url = site.on('/survivor', html(ARTICLE));
    dnsTable['siit.test'] = ['::ffff:0:a00:1']; // 10.0.0.1 written as ::ffff:0:a.b.c.d
    dnsTable['azure.test'] = ['168.63.129.16'];
    for (const bad of ['http://siit.test/', 'http://azure.test/machine?comp=goalstate']) {
      await expect(safeFetch(bad, loopbackOptions)).rejects.toMatchObject({ reason: 'denied_address', retryable: false });
    }
    const { channel, seq } = await post(`http://siit.test/ and http://azure.test/machine and ${url}`);
    const outcome = await unfurler().unfurlMessage(channel, seq);
    expect(outcome).toMatchObject({ status: 'unfurled', attachments: [{ id: 1, original_url: url, title: 'Launch day' }] });
  });

  it('appends nothing for a page without metadata, a deleted message, or one deleted during the fetch', async () => {
    const bare = site.on('/bare', html('<html><body>no head</body></html>'));
    const empty = site.on('/empty', html(''));
    const a = await post(`${bare} ${empty}`);
    expect(await unfurler().unfurlMessage(a.channel, a.seq)).toEqual({ status: 'up_to_date' });

    const article = site.on('/deleted', html(ARTICLE));
    const b = await post(article);
    expect((await t.api('chat.delete', ada.token, { channel: b.channel, ts: b.ts })).body.ok).toBe(true);
    expect(await unfurler().unfurlMessage(b.channel, b.seq)).toEqual({ status: 'gone' });
    expect(site.hitsOf('/deleted')).toBe(0);

    let victim: { channel: string; ts: string } | undefined;
    const racing = site.on('/delete-while-fetching', async (req, res) => {
      const deleted = await t.api('chat.delete', ada.token, { channel: victim!.channel, ts: victim!.ts });
      expect(deleted.body.ok).toBe(true);
      html(ARTICLE)(req, res);
    });
    const c = (victim = await post(racing));
    expect(await unfurler().unfurlMessage(c.channel, c.seq)).toEqual({ status: 'gone' });
    expect(await changedEvents(a.channel)).toEqual([]);
    expect(await changedEvents(b.channel)).toEqual([]);
    expect(await changedEvents(c.channel)).toEqual([]);
    expect(await unfurler().unfurlMessage('CNOPE', 1)).toEqual({ status: 'gone' });
  });
});
