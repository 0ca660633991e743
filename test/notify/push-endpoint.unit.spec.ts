import { plainText } from '../../src/jobs/notify/notify-delivery.service.js';
import { vetEndpoint } from '../../src/jobs/notify/push-endpoint.js';

// The SSRF guard on push endpoints (a URL a client chose): https to public addresses only, unless
// the operator allows more. Names resolve through an injected resolver (tests never use DNS).
describe('push endpoint guard', () => {
  const resolve = (answers: Record<string, string[]>) => async (host: string) =>
    (answers[host] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  const dns = resolve({
    'push.example': ['93.184.216.34'],
    'inside.example': ['10.1.2.3'],
    'mixed.example': ['93.184.216.34', '127.0.0.1'],
  });

  it.each([
    ['https://push.example/send/abc', { ok: true }],
    ['https://93.184.216.34/x', { ok: true }],
    ['http://push.example/send/abc', { ok: false, reason: 'bad_url' }],
    ['https://user:pw@push.example/x', { ok: false, reason: 'bad_url' }],
    ['ftp://push.example/x', { ok: false, reason: 'bad_url' }],
    ['https://inside.example/x', { ok: false, reason: 'denied_address' }],
    // One bad address among the answers is enough to refuse (DNS may answer either).
    ['https://mixed.example/x', { ok: false, reason: 'denied_address' }],
    ['https://127.0.0.1/x', { ok: false, reason: 'denied_address' }],
    ['https://[::1]/x', { ok: false, reason: 'denied_address' }],
    ['https://169.254.169.254/latest/meta-data', { ok: false, reason: 'denied_address' }],
    ['https://[::ffff:10.0.0.1]/x', { ok: false, reason: 'denied_address' }],
    ['https://nowhere.example/x', { ok: false, reason: 'dns_failed' }],
  ])('%s -> %o by default', async (url, expected) => {
    expect(await vetEndpoint(url, { resolve: dns })).toMatchObject(expected);
  });

  it('allows plain http and loopback only when the operator says so, never the metadata endpoints', async () => {
    const open = { resolve: dns, allowHttp: true, allowLoopback: true, allowPrivate: true };
    expect(await vetEndpoint('http://127.0.0.1:8080/push', open)).toMatchObject({ ok: true, address: '127.0.0.1', family: 4 });
    expect(await vetEndpoint('https://inside.example/x', open)).toMatchObject({ ok: true, address: '10.1.2.3' });
    expect(await vetEndpoint('http://169.254.169.254/', open)).toEqual({ ok: false, reason: 'denied_address' });
  });
});

describe('notification text', () => {
  it('shows Slack markup plainly', () => {
    expect(plainText('<!here> see <https://x.test/a|the doc> and <https://x.test/b>, <@U1|ada>, <@U2>, <#C1|general> &lt;3')).toBe(
      '@here see the doc and https://x.test/b, @ada, @U2, #general <3',
    );
  });
});
