import { promises as dns, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { classifyAddress, type AddressPolicy } from '../unfurl/address-policy.js';

/** Which push endpoints may be used: https to public addresses only, unless the operator allows more. */
export interface EndpointPolicy extends AddressPolicy {
  allowHttp?: boolean;
  /** DNS resolution (tests map names to addresses); defaults to the system resolver. */
  resolve?: (hostname: string) => Promise<LookupAddress[]>;
}

export type EndpointVerdict =
  { ok: true; url: URL; address: string; family: 4 | 6 } | { ok: false; reason: 'bad_url' | 'denied_address' | 'dns_failed' };

const MAX_ENDPOINT_LENGTH = 2048;

/** Syntax only (no DNS): an absolute https (or allowed http) URL with a host and no credentials. */
export function parseEndpoint(raw: string, policy: EndpointPolicy): URL | undefined {
  if (raw.length > MAX_ENDPOINT_LENGTH || !URL.canParse(raw)) return undefined;
  const url = new URL(raw);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp)) return undefined;
  if (!url.hostname || url.username || url.password || url.hash) return undefined;
  return url;
}

/**
 * The unfurler's SSRF guard applied to a push endpoint (a URL a client chose): the host is
 * resolved and every address must pass `classifyAddress`; the first is the one to connect to
 * (see `pinnedLookup`), so DNS cannot answer differently between the check and the connection.
 */
export async function vetEndpoint(raw: string, policy: EndpointPolicy): Promise<EndpointVerdict> {
  const url = parseEndpoint(raw, policy);
  if (!url) return { ok: false, reason: 'bad_url' };
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: LookupAddress[];
  if (isIP(host)) addresses = [{ address: host, family: isIP(host) }];
  else {
    const resolve = policy.resolve ?? ((h: string) => dns.lookup(h, { all: true, verbatim: true }));
    addresses = await resolve(host).catch(() => []);
    if (!addresses.length) return { ok: false, reason: 'dns_failed' };
  }
  let first: { address: string; family: 4 | 6 } | undefined;
  for (const { address } of addresses) {
    const verdict = classifyAddress(address, policy);
    if (!verdict.allowed) return { ok: false, reason: 'denied_address' };
    first ??= { address: verdict.address, family: verdict.family };
  }
  return { ok: true, url, ...first! };
}

/** A lookup that answers only with the vetted address (for the connection's agent). */
export function pinnedLookup(address: string, family: 4 | 6): LookupFunction {
  return (_hostname, opts, callback) => {
    if ((opts as { all?: boolean }).all) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, [{ address, family }]);
    else callback(null, address, family);
  };
}
