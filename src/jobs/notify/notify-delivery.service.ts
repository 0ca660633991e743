import { Inject, Injectable, Logger } from '@nestjs/common';
import { EkmRepository } from '../../crypto/ekm.repository.js';
import { covers } from '../../crypto/body-cipher.js';
import { CONFIG, type Config } from '../../config/config.js';
import { formatTs } from '../../domain/ts.js';
import type { NotifyJob } from '../queues.js';
import { type NotifiedMessage, NotifyRepository } from './notify.repository.js';
import { PushSender } from './push-sender.js';

/** What a device's service worker receives (JSON, encrypted by Web Push). */
export interface NotificationPayload {
  title: string;
  body: string;
  channel: string;
  ts: string;
  thread_ts?: string;
  /** Where a click opens the client. */
  url: string;
}

const BODY_CHARS = 180;

/**
 * The notify worker's use case: one message to one device. Everything is read again at send time,
 * so a device removed, a message deleted or an EKM revocation made since the decision stops it.
 * EKM workspaces get no text at all ("New message in #channel"), and nothing while access to the
 * message is revoked. 404/410 from the push service removes the device; so does an endpoint the
 * SSRF guard refuses now. Retryable failures throw (BullMQ retries with back-off).
 */
@Injectable()
export class NotifyDelivery {
  private readonly log = new Logger('NotifyDelivery');

  constructor(
    private readonly repo: NotifyRepository,
    private readonly ekm: EkmRepository,
    private readonly sender: PushSender,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  async deliver(job: NotifyJob): Promise<'sent' | 'gone' | 'skipped' | 'refused'> {
    const sub = await this.repo.subscription(job.subscription);
    if (!sub) return 'skipped';
    const msg = await this.repo.message(job.channel, job.seq);
    if (!msg || msg.deleted) return 'skipped';
    if (msg.ekm && (await this.revoked(msg, job.channel))) return 'skipped';
    const payload = this.payload(msg, job.channel);
    const outcome = await this.sender.send(sub, JSON.stringify(payload), {
      // One pending notification per channel per device at the push service (RFC 8030 Topic).
      topic: job.channel.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 32) || 'atomcast',
      urgency: 'high',
    });
    if (outcome.kind === 'sent') return 'sent';
    if (outcome.kind === 'gone') {
      await this.repo.removeSubscription(sub.id);
      return 'gone';
    }
    if (outcome.reason === 'bad_url' || outcome.reason === 'denied_address') await this.repo.removeSubscription(sub.id);
    this.log.warn(`push to device ${sub.id} refused: ${outcome.reason}`);
    return 'refused';
  }

  private async revoked(msg: NotifiedMessage, channel: string): Promise<boolean> {
    const revocations = await this.ekm.activeRevocations([msg.workspace_id]);
    return revocations.some((r) => covers(r, channel, BigInt(msg.ts)));
  }

  private payload(msg: NotifiedMessage, channel: string): NotificationPayload {
    const dm = msg.kind !== 'channel';
    const where = dm ? 'a direct message' : `#${msg.channel_name}`;
    const base = {
      channel,
      ts: formatTs(msg.ts),
      ...(msg.thread_ts && msg.thread_ts !== msg.ts ? { thread_ts: formatTs(msg.thread_ts) } : {}),
      url: `${this.config.PUBLIC_URL}/`,
    };
    if (msg.ekm) return { title: dm ? 'Direct message' : `#${msg.channel_name}`, body: `New message in ${where}`, ...base };
    const text = plainText(msg.text ?? '');
    return {
      title: dm ? msg.author : `${msg.author} in #${msg.channel_name}`,
      body: text.length > BODY_CHARS ? `${text.slice(0, BODY_CHARS - 1)}…` : text,
      ...base,
    };
  }
}

/** Slack markup as a notification shows it: `<url|label>` -> label, `<!here>` -> @here, `<@U1|ada>` -> @ada. */
export function plainText(text: string): string {
  return text
    .replace(/<([@#!])([^>|]+)(?:\|([^>]*))?>/g, (_m, sigil: string, id: string, label?: string) =>
      sigil === '!' ? `@${label || id}` : `${sigil === '@' ? '@' : '#'}${label || id}`,
    )
    .replace(/<([^>|]+)(?:\|([^>]*))?>/g, (_m, url: string, label?: string) => label || url)
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}
