import { Agent, request } from 'undici';
import webpush, { type Urgency } from 'web-push';
import { type EndpointPolicy, pinnedLookup, vetEndpoint } from './push-endpoint.js';
import type { PushSubscriptionRow } from './notify.repository.js';

export interface PushOptions extends EndpointPolicy {
  vapid: { subject: string; publicKey: string; privateKey: string };
  ttlSeconds: number;
  timeoutMs: number;
}

/** What became of one push: delivered, the device is gone (404/410), or refused for good. Retryable failures throw. */
export type PushOutcome = { kind: 'sent' } | { kind: 'gone' } | { kind: 'refused'; reason: string };

/** A failure that may pass later (timeouts, connection errors, 429, 5xx). */
export class PushRetryable extends Error {}

/**
 * Sends one Web Push message. `web-push` encrypts the payload (RFC 8291, aes128gcm) and signs the
 * VAPID header; the request itself goes out here, through the SSRF guard with the connection
 * pinned to the vetted address (web-push's own sender would resolve the host again, and speaks
 * https only).
 */
export class PushSender {
  constructor(private readonly options: PushOptions) {}

  async send(sub: PushSubscriptionRow, payload: string, extra: { topic: string; urgency: Urgency }): Promise<PushOutcome> {
    const vetted = await vetEndpoint(sub.endpoint, this.options);
    if (!vetted.ok) return { kind: 'refused', reason: vetted.reason };
    const details = webpush.generateRequestDetails({ endpoint: sub.endpoint, keys: { p256dh: sub.p256dh, auth: sub.auth } }, payload, {
      vapidDetails: this.options.vapid,
      TTL: this.options.ttlSeconds,
      topic: extra.topic,
      urgency: extra.urgency,
      contentEncoding: 'aes128gcm',
    });
    const agent = new Agent({
      connect: { lookup: pinnedLookup(vetted.address, vetted.family), timeout: this.options.timeoutMs },
      headersTimeout: this.options.timeoutMs,
      bodyTimeout: this.options.timeoutMs,
      connections: 1,
    });
    try {
      const res = await request(vetted.url, {
        dispatcher: agent,
        method: 'POST',
        headers: details.headers as Record<string, string>,
        body: details.body ?? undefined,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      }).catch((err: Error) => {
        throw new PushRetryable(`push request failed: ${err.message}`);
      });
      await res.body.dump().catch(() => {});
      const status = res.statusCode;
      if (status >= 200 && status < 300) return { kind: 'sent' };
      if (status === 404 || status === 410) return { kind: 'gone' };
      if (status === 429 || status === 408 || status >= 500) throw new PushRetryable(`push service answered ${status}`);
      // 400 (bad request), 401/403 (VAPID not accepted), 413 (payload too large): trying again will not help.
      return { kind: 'refused', reason: `http_${status}` };
    } finally {
      agent.destroy().catch(() => {});
    }
  }
}
