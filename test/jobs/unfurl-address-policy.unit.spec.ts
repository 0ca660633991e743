import { classifyAddress } from '../../src/jobs/unfurl/address-policy.js';

const range = (ip: string, policy = {}) => {
  const v = classifyAddress(ip, policy);
  return v.allowed ? 'allowed' : v.range;
};

describe('unfurl address policy', () => {
  it('allows global unicast, IPv4 and IPv6', () => {
    for (const ip of ['93.184.216.34', '8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '2a00:1450:4001:81c::200e'])
      expect(range(ip)).toBe('allowed');
  });

  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.1.1', 'linkLocal'],
    ['fe80::1', 'linkLocal'],
    ['fc00::1', 'uniqueLocal'],
    ['fd12:3456::1', 'uniqueLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['100.127.255.254', 'carrierGradeNat'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.2.1', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['2001::1', 'teredo'],
    ['not-an-ip', 'invalid'],
  ])('denies %s (%s) by default', (ip, expected) => {
    expect(range(ip)).toBe(expected);
  });

  it('denies the cloud metadata endpoints whatever is allowed', () => {
    const everything = { allowLoopback: true, allowPrivate: true, allowCidrs: ['0.0.0.0/0', '::/0', '169.254.169.254/32'] };
    for (const ip of ['169.254.169.254', 'fd00:ec2::254', '::ffff:169.254.169.254', '169.254.170.2', '100.100.100.200']) {
      expect(range(ip, everything)).toBe('metadata');
    }
  });

  it.each([
    '169.254.169.254',
    'fd00:ec2::254',
    '169.254.170.2',
    '169.254.169.253',
    'fd00:ec2::253',
    '168.63.129.16',
    '100.100.100.200',
    '192.0.0.192',
    '169.254.0.23',
  ])('denies the cloud metadata address %s by default and whatever is allowed', (ip) => {
    expect(range(ip)).toBe('metadata');
    expect(range(ip, { allowLoopback: true, allowPrivate: true, allowCidrs: ['0.0.0.0/0', '::/0'] })).toBe('metadata');
  });

  it('denies SIIT addresses (::ffff:0:a.b.c.d) as the IPv4 address they reach instead of throwing', () => {
    expect(range('::ffff:0:7f00:1')).toBe('loopback');
    expect(range('::ffff:0:127.0.0.1')).toBe('loopback');
    expect(range('::ffff:0:a00:1')).toBe('private');
    expect(range('::ffff:0:a9fe:a9fe')).toBe('metadata');
    expect(range('::ffff:0:8.8.8.8')).toBe('allowed');
  });

  it('judges IPv4 embedded in IPv6 (mapped, NAT64, 6to4) as the IPv4 address it reaches', () => {
    expect(range('::ffff:127.0.0.1')).toBe('loopback');
    expect(range('::ffff:10.1.2.3')).toBe('private');
    expect(range('64:ff9b::a00:1')).toBe('private'); // NAT64 of 10.0.0.1
    expect(range('2002:c0a8:0101::1')).toBe('private'); // 6to4 of 192.168.1.1
    expect(range('::ffff:8.8.8.8')).toBe('allowed');
  });

  it('denies IPv6 outside 2000::/3 that ipaddr.js calls unicast', () => {
    expect(range('::102:304')).not.toBe('allowed'); // IPv4-compatible (deprecated)
    expect(range('4000::1')).not.toBe('allowed');
  });

  it('allows loopback only when asked, and private ranges only with allowPrivate', () => {
    expect(range('127.0.0.1', { allowLoopback: true })).toBe('allowed');
    expect(range('::1', { allowLoopback: true })).toBe('allowed');
    expect(range('10.0.0.1', { allowLoopback: true })).toBe('private');
    for (const ip of ['10.0.0.1', '192.168.0.7', 'fd12::1', '100.64.1.1', '169.254.3.3'])
      expect(range(ip, { allowPrivate: true })).toBe('allowed');
    expect(range('127.0.0.1', { allowPrivate: true })).toBe('loopback');
    expect(range('224.0.0.1', { allowPrivate: true, allowLoopback: true })).toBe('multicast');
  });

  it('an allow rule admits exactly its CIDR', () => {
    const policy = { allowCidrs: ['127.0.0.1/32', '10.20.0.0/16'] };
    expect(range('127.0.0.1', policy)).toBe('allowed');
    expect(range('127.0.0.2', policy)).toBe('loopback');
    expect(range('10.20.3.4', policy)).toBe('allowed');
    expect(range('10.21.3.4', policy)).toBe('private');
    expect(range('::ffff:10.20.3.4', policy)).toBe('allowed');
  });

  it('connects to the address as resolved', () => {
    expect(classifyAddress('::ffff:8.8.8.8')).toEqual({ allowed: true, address: '::ffff:808:808', family: 6 });
    expect(classifyAddress('8.8.8.8')).toEqual({ allowed: true, address: '8.8.8.8', family: 4 });
  });
});
