import { promises as dns, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { rootCertificates } from 'node:tls';
import { Agent, request, type Dispatcher } from 'undici';
import { classifyAddress, type AddressPolicy } from './address-policy.js';

export interface SafeFetchOptions extends AddressPolicy {
  /** Total time for every hop, headers and body, in milliseconds. */
  timeoutMs: number;
  /** Largest body read; reading stops past it. */
  maxBytes: number;
  maxRedirects: number;
  /** Extra trusted CA certificates (PEM), besides the public roots: an internal site behind a private CA. */
  ca?: string[];
  /** DNS resolution (tests map names to addresses); defaults to the system resolver. */
  resolve?: (hostname: string) => Promise<LookupAddress[]>;
}

export type RefusalReason =
  | 'bad_url'
  | 'denied_address'
  | 'dns_failed'
  | 'too_many_redirects'
  | 'timeout'
  | 'too_large'
  | 'bad_content_type'
  | 'connection_failed'
  | 'tls_failed'
  /** Anything else that went wrong with one link (a bug, not the site): that link is skipped. */
  | 'unexpected'
  | `http_${number}`;

/** Why a URL was not fetched. Retryable ones (timeouts, 5xx, 429, connection errors) may succeed later. */
export class UnfurlRefused extends Error {
  constructor(
    readonly reason: RefusalReason,
    readonly retryable: boolean,
  ) {
    super(`unfurl refused: ${reason}`);
    this.name = 'UnfurlRefused';
  }
}

export interface FetchedPage {
  /** Where the body came from, after redirects. */
  url: URL;
  html: string;
}

const HTML_TYPES = new Set(['text/html', 'application/xhtml+xml']);
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const USER_AGENT = 'atomcast-unfurler/0.1 (+link previews)';

/**
 * GETs an HTML page without letting a message author reach the server's own network.
 * Every hop is resolved here, every address checked, and the socket is connected to the checked
 * address (undici's lookup is pinned to it), so a DNS answer that changes between check and
 * connect (rebinding) cannot redirect the request.
 */
export async function safeFetch(input: string | URL, options: SafeFetchOptions): Promise<FetchedPage> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  const vetted = new Map<string, { address: string; family: 4 | 6 }>();
  const agent = new Agent({
    // TLS still verifies the certificate against the URL's hostname (SNI), not the pinned address.
    connect: {
      lookup: pinnedLookup(vetted),
      timeout: options.timeoutMs,
      ...(options.ca?.length ? { ca: [...rootCertificates, ...options.ca] } : {}),
    },
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    connections: 1,
    pipelining: 0,
  });
  try {
    let url = parseHttpUrl(input);
    for (let hop = 0; ; hop++) {
      const host = bareHostname(url);
      vetted.set(host, await vet(host, options, signal));
      const res = await request(url, {
        dispatcher: agent,
        method: 'GET',
        signal,
        headers: { accept: 'text/html,application/xhtml+xml;q=0.9', 'user-agent': USER_AGENT },
      }).catch((err: unknown) => {
        throw toRefusal(err, signal);
      });
      if (REDIRECTS.has(res.statusCode)) {
        discard(res.body);
        const location = header(res.headers.location);
        if (!location) throw new UnfurlRefused(`http_${res.statusCode}`, false);
        if (hop >= options.maxRedirects) throw new UnfurlRefused('too_many_redirects', false);
        url = parseHttpUrl(location, url);
        continue;
      }
      if (res.statusCode < 200 || res.statusCode > 299) {
        discard(res.body);
        throw new UnfurlRefused(`http_${res.statusCode}`, res.statusCode >= 500 || res.statusCode === 429 || res.statusCode === 408);
      }
      const { mediaType, charset } = parseContentType(header(res.headers['content-type']));
      if (!HTML_TYPES.has(mediaType)) {
        discard(res.body);
        throw new UnfurlRefused('bad_content_type', false);
      }
      const declared = Number(header(res.headers['content-length']));
      if (Number.isFinite(declared) && declared > options.maxBytes) {
        discard(res.body);
        throw new UnfurlRefused('too_large', false);
      }
      const body = await readCapped(res.body, options.maxBytes, signal);
      return { url, html: decode(body, charset) };
    }
  } finally {
    agent.destroy().catch(() => {});
  }
}

/** Resolves and checks a host; every address must pass, the first one is the one connected to (also used by app-events). */
export async function vet(host: string, options: SafeFetchOptions, signal: AbortSignal) {
  let addresses: LookupAddress[];
  if (isIP(host)) {
    addresses = [{ address: host, family: isIP(host) }];
  } else {
    const resolve = options.resolve ?? ((h: string) => dns.lookup(h, { all: true, verbatim: true }));
    addresses = await raceAbort(resolve(host), signal).catch((err: unknown) => {
      if (err instanceof UnfurlRefused) throw err;
      const code = (err as { code?: string }).code;
      // EAI_AGAIN is a resolver hiccup; ENOTFOUND/ENODATA are answers.
      throw new UnfurlRefused('dns_failed', code === 'EAI_AGAIN' || code === 'ETIMEOUT');
    });
  }
  if (addresses.length === 0) throw new UnfurlRefused('dns_failed', false);
  let first: { address: string; family: 4 | 6 } | undefined;
  for (const { address } of addresses) {
    const verdict = classifyAddress(address, options);
    if (!verdict.allowed) throw new UnfurlRefused('denied_address', false);
    first ??= { address: verdict.address, family: verdict.family };
  }
  return first!;
}

/** The only lookup the agent may use: it answers with the vetted address or fails. */
export function pinnedLookup(vetted: Map<string, { address: string; family: 4 | 6 }>): LookupFunction {
  return (hostname, opts, callback) => {
    const pinned = vetted.get(hostname.replace(/^\[|\]$/g, ''));
    if (!pinned) {
      callback(Object.assign(new Error('host was not vetted'), { code: 'ENOTFOUND' }), '', 0);
      return;
    }
    if ((opts as { all?: boolean }).all) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, [pinned]);
    else callback(null, pinned.address, pinned.family);
  };
}

function parseHttpUrl(input: string | URL, base?: URL): URL {
  let url: URL;
  try {
    url = new URL(input, base);
  } catch {
    throw new UnfurlRefused('bad_url', false);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UnfurlRefused('bad_url', false);
  if (url.username || url.password || !url.hostname) throw new UnfurlRefused('bad_url', false);
  url.hash = '';
  return url;
}

function bareHostname(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

async function readCapped(body: Dispatcher.ResponseData['body'], maxBytes: number, signal: AbortSignal): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      size += chunk.length;
      if (size > maxBytes) {
        discard(body);
        throw new UnfurlRefused('too_large', false);
      }
      chunks.push(chunk);
    }
  } catch (err) {
    throw toRefusal(err, signal);
  }
  return Buffer.concat(chunks, size);
}

/** Drops a body we will not read; undici reports the abort as an error nobody needs to see. */
function discard(body: { destroy(): void; on(event: 'error', listener: () => void): unknown }): void {
  body.on('error', () => {});
  body.destroy();
}

function parseContentType(value: string | undefined): { mediaType: string; charset?: string } {
  if (!value) return { mediaType: '' };
  const [type, ...params] = value.split(';');
  const charset = params.map((p) => /^\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(p)?.[1]).find(Boolean);
  return { mediaType: type.trim().toLowerCase(), charset };
}

function decode(body: Buffer, charset: string | undefined): string {
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(body);
  } catch {
    return new TextDecoder('utf-8').decode(body); // unknown label
  }
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(new UnfurlRefused('timeout', true));
    const onAbort = () => reject(new UnfurlRefused('timeout', true));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

const TLS_CODES =
  /^(CERT_|ERR_TLS_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT|HOSTNAME_MISMATCH|ERR_SSL_)/;

function toRefusal(err: unknown, signal: AbortSignal): UnfurlRefused {
  if (err instanceof UnfurlRefused) return err;
  const code = (err as { code?: string }).code ?? '';
  const name = (err as { name?: string }).name ?? '';
  if (signal.aborted || name === 'TimeoutError' || /TIMEOUT/.test(code)) return new UnfurlRefused('timeout', true);
  if (TLS_CODES.test(code)) return new UnfurlRefused('tls_failed', false);
  return new UnfurlRefused('connection_failed', true);
}
