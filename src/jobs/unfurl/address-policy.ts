import ipaddr from 'ipaddr.js';

/** Who may be fetched. Production denies every non-public address; tests opt in to loopback. */
export interface AddressPolicy {
  /** 127.0.0.0/8 and ::1. */
  allowLoopback?: boolean;
  /** RFC 1918, unique-local (fc00::/7), CGNAT (100.64.0.0/10) and link-local; never the metadata endpoints. */
  allowPrivate?: boolean;
  /** CIDRs allowed whatever their range (e.g. one internal wiki), except the metadata endpoints. */
  allowCidrs?: string[];
}

export type AddressVerdict = { allowed: true; address: string; family: 4 | 6 } | { allowed: false; range: string };

// Cloud instance-metadata and platform endpoints: a fetch there can leak credentials, so no setting
// allows them. Some sit in ranges denied anyway (link-local); listing them keeps them denied even
// where an operator allows private ranges or CIDRs, and some are public unicast (Azure, Oracle).
export const METADATA_ADDRESSES = [
  '169.254.169.254', // AWS, GCP, Azure IMDS, DigitalOcean, OpenStack, Hetzner, Oracle (v1)
  'fd00:ec2::254', // AWS IMDS over IPv6 (Nitro)
  '169.254.170.2', // AWS ECS task metadata and credentials
  '169.254.169.253', // AWS VPC DNS resolver
  'fd00:ec2::253', // AWS VPC DNS resolver over IPv6
  '168.63.129.16', // Azure platform endpoint (WireServer: agent config and certificates)
  '100.100.100.200', // Alibaba Cloud metadata
  '192.0.0.192', // Oracle Cloud metadata
  '169.254.0.23', // Tencent Cloud metadata
];
const METADATA = METADATA_ADDRESSES.map((a) => ipaddr.parse(a).toString());

const PRIVATE_RANGES = new Set(['private', 'uniqueLocal', 'carrierGradeNat', 'linkLocal']);

/**
 * Classifies one resolved address. An allow-list of ranges, not a deny-list: only global unicast
 * passes by default, so every special range ipaddr.js knows (reserved, benchmarking, multicast,
 * broadcast, unspecified, teredo, ...) is refused. IPv4 hidden inside IPv6 (mapped, NAT64, 6to4)
 * is judged as the IPv4 address it reaches.
 */
export function classifyAddress(raw: string, policy: AddressPolicy = {}): AddressVerdict {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(raw);
    ip = unwrapIPv4(parsed);
  } catch {
    // A shape ipaddr.js parses but cannot convert is still an answer: deny it, never throw.
    return { allowed: false, range: 'invalid' };
  }
  const normalized = ip.toString();
  if (METADATA.includes(normalized)) return { allowed: false, range: 'metadata' };
  const range = ip.range();
  const family = ip.kind() === 'ipv4' ? 4 : 6;
  // Connect to the address as resolved (an IPv4-mapped IPv6 stays IPv6 for the socket).
  const allowed = { allowed: true as const, address: parsed.toString(), family: parsed.kind() === 'ipv4' ? (4 as const) : (6 as const) };
  if (policy.allowCidrs?.some((cidr) => inCidr(ip, cidr))) return allowed;
  if (range === 'unicast') return family === 6 && isNonGlobalIPv6(ip as ipaddr.IPv6) ? { allowed: false, range: 'reserved' } : allowed;
  if (range === 'loopback' && policy.allowLoopback) return allowed;
  if (PRIVATE_RANGES.has(range) && policy.allowPrivate) return allowed;
  return { allowed: false, range };
}

function unwrapIPv4(ip: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  if (ip.kind() === 'ipv4') return ip;
  const v6 = ip as ipaddr.IPv6;
  const range = v6.range();
  const bytes = v6.toByteArray();
  if (range === 'ipv4Mapped') return v6.toIPv4Address();
  // ::ffff:0:a.b.c.d (SIIT): toIPv4Address() only knows ::ffff:a.b.c.d and throws on it.
  if (range === 'rfc6145') return new ipaddr.IPv4(bytes.slice(12, 16));
  if (range === 'rfc6052') return new ipaddr.IPv4(bytes.slice(12, 16)); // NAT64 64:ff9b::/96
  if (range === '6to4') return new ipaddr.IPv4(bytes.slice(2, 6)); // 2002:AABB:CCDD::/48
  return v6;
}

// ipaddr.js calls everything it has no name for "unicast"; only 2000::/3 is global unicast today.
function isNonGlobalIPv6(ip: ipaddr.IPv6): boolean {
  return (ip.parts[0] & 0xe000) !== 0x2000;
}

function inCidr(ip: ipaddr.IPv4 | ipaddr.IPv6, cidr: string): boolean {
  try {
    const [net, bits] = ipaddr.parseCIDR(cidr);
    return net.kind() === ip.kind() && ip.match(net, bits);
  } catch {
    return false;
  }
}

/** Validates CIDRs up front so a bad setting fails at start-up, not on the first fetch. */
export function assertCidrs(cidrs: string[] = []): void {
  for (const cidr of cidrs) if (!ipaddr.isValidCIDR(cidr)) throw new Error(`not a CIDR: ${cidr}`);
}
