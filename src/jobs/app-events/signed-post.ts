import { createHmac, timingSafeEqual } from 'node:crypto';
import { Agent, request } from 'undici';
import type { AddressPolicy } from '../unfurl/address-policy.js';
import { pinnedLookup, UnfurlRefused, vet } from '../unfurl/safe-fetch.js';

/** Slack's v0 request signature: `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<body>` under the signing secret. */
export function slackSignature(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export function signatureMatches(secret: string, timestamp: number, body: string, given: string): boolean {
  const expected = Buffer.from(slackSignature(secret, timestamp, body));
  const actual = Buffer.from(given);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Slack's `X-Slack-Retry-Reason` values for what went wrong with one attempt. */
export type DeliveryFailure = 'http_timeout' | 'http_error' | 'connection_failed' | 'denied_address' | 'bad_url' | 'unknown_error';

export class DeliveryFailed extends Error {
  constructor(
    readonly reason: DeliveryFailure,
    readonly status?: number,
  ) {
    super(status ? `${reason} (HTTP ${status})` : reason);
    this.name = 'DeliveryFailed';
  }
}

export interface SignedPost {
  url: string;
  body: string;
  contentType: 'application/json' | 'application/x-www-form-urlencoded';
  secret: string;
  policy: AddressPolicy;
  timeoutMs: number;
  retry?: { num: number; reason: DeliveryFailure };
}

const MAX_RESPONSE = 64 * 1024;
/** A vetted address and its keep-alive connection pool are reused this long, then the host is resolved and checked again. */
const VETTED_FOR_MS = 30_000;

interface PinnedAgent {
  agent: Agent;
  expires: number;
}

// One keep-alive agent per (host, policy): each delivery would otherwise pay a DNS lookup and a TCP
// (and TLS) handshake. The agent can only connect to the address vetted when it was made.
const agents = new Map<string, PinnedAgent>();

async function pinnedAgent(host: string, post: SignedPost, signal: AbortSignal): Promise<Agent> {
  const key = `${host}|${post.policy.allowLoopback ? 1 : 0}${post.policy.allowPrivate ? 1 : 0}|${(post.policy.allowCidrs ?? []).join(',')}|${post.timeoutMs}`;
  const cached = agents.get(key);
  if (cached && cached.expires > Date.now()) return cached.agent;
  const vetted = new Map<string, { address: string; family: 4 | 6 }>();
  try {
    vetted.set(host, await vet(host, { ...post.policy, timeoutMs: post.timeoutMs, maxBytes: MAX_RESPONSE, maxRedirects: 0 }, signal));
  } catch (err) {
    if (err instanceof UnfurlRefused && err.reason === 'denied_address') throw new DeliveryFailed('denied_address');
    throw new DeliveryFailed(signal.aborted ? 'http_timeout' : 'connection_failed');
  }
  const agent = new Agent({ connect: { lookup: pinnedLookup(vetted), timeout: post.timeoutMs }, keepAliveTimeout: VETTED_FOR_MS });
  if (cached) setTimeout(() => void cached.agent.close().catch(() => {}), post.timeoutMs).unref();
  agents.set(key, { agent, expires: Date.now() + VETTED_FOR_MS });
  if (agents.size > 1000) {
    for (const [k, v] of agents) {
      if (v.expires > Date.now()) continue;
      agents.delete(k);
      void v.agent.close().catch(() => {});
    }
  }
  return agent;
}

/**
 * POSTs a signed request to an app's URL through the unfurler's SSRF guard: the host is resolved
 * and every address checked, then the socket is pinned to the checked address. No redirects
 * (Slack follows none for event delivery). Resolves with the answer's body on a 2xx.
 */
export async function signedPost(post: SignedPost): Promise<string> {
  const signal = AbortSignal.timeout(post.timeoutMs);
  let url: URL;
  try {
    url = new URL(post.url);
  } catch {
    throw new DeliveryFailed('bad_url');
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password) throw new DeliveryFailed('bad_url');
  const agent = await pinnedAgent(url.hostname.replace(/^\[|\]$/g, ''), post, signal);
  const timestamp = Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    'content-type': post.contentType,
    'user-agent': 'atomcast-apps/0.1 (+https://api.slack.com/robots)',
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': slackSignature(post.secret, timestamp, post.body),
  };
  if (post.retry) {
    headers['x-slack-retry-num'] = String(post.retry.num);
    headers['x-slack-retry-reason'] = post.retry.reason;
  }
  const res = await request(url, { dispatcher: agent, method: 'POST', body: post.body, headers, signal }).catch(() => {
    throw new DeliveryFailed(signal.aborted ? 'http_timeout' : 'connection_failed');
  });
  const text = await res.body.text().catch(() => {
    throw new DeliveryFailed(signal.aborted ? 'http_timeout' : 'connection_failed');
  });
  if (res.statusCode < 200 || res.statusCode > 299) throw new DeliveryFailed('http_error', res.statusCode);
  return text.slice(0, MAX_RESPONSE);
}
