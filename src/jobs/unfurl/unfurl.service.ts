import { Inject, Injectable, Logger } from '@nestjs/common';
import { EventStore } from '../../event-store/event-store.js';
import type { MessageAttachment } from '../../domain/message.js';
import { extractUrls } from './extract-urls.js';
import { buildAttachment } from './preview.js';
import { safeFetch, UnfurlRefused, type RefusalReason, type SafeFetchOptions } from './safe-fetch.js';
import { UnfurlRepository } from './unfurl.repository.js';

export const UNFURL_OPTIONS = Symbol('UNFURL_OPTIONS');

export interface UnfurlOptions extends SafeFetchOptions {
  /** Links unfurled per message; the rest are ignored, as Slack does. */
  maxUrls: number;
}

/** Production defaults: public addresses only. */
export const DEFAULT_UNFURL_OPTIONS: UnfurlOptions = { timeoutMs: 5000, maxBytes: 1024 * 1024, maxRedirects: 3, maxUrls: 3 };

export type UnfurlOutcome =
  /** The message is gone, deleted, or its channel archived: nothing to show it to. */
  | { status: 'gone' }
  /** EKM workspace: previews are not stored, since they would keep the link and page text unencrypted. */
  | { status: 'encrypted' }
  | { status: 'no_links' }
  /** Every link already has its preview (and every preview its link), or no page had anything to show: nothing appended. */
  | { status: 'up_to_date' }
  /** The previews changed (added, or dropped after an edit removed their link), announced at `seq`. */
  | { status: 'unfurled'; seq: number; attachments: MessageAttachment[] };

/** Some link failed in a way that may pass later (timeout, 5xx, connection): BullMQ retries the job with backoff. */
export class UnfurlRetryable extends Error {
  constructor(readonly reasons: RefusalReason[]) {
    super(`unfurl will be retried: ${reasons.join(', ')}`);
    this.name = 'UnfurlRetryable';
  }
}

type Fetched = { url: string; attachment?: MessageAttachment; refusal?: UnfurlRefused };

/**
 * Link previews for one message, after its post and after each edit. A change of previews reaches
 * clients as a `message_changed` event appended to the channel stream, with the attachments stored
 * on the message row.
 */
@Injectable()
export class UnfurlService {
  private readonly log = new Logger('UnfurlService');

  constructor(
    private readonly events: EventStore,
    private readonly repository: UnfurlRepository,
    @Inject(UNFURL_OPTIONS) private readonly options: UnfurlOptions,
  ) {}

  /**
   * Brings the message's previews in line with its links: links without a preview are fetched, and
   * previews of links an edit removed are dropped. Idempotent: a run that finds nothing to change
   * appends nothing. Throws UnfurlRetryable when a link failed retryably, before writing anything,
   * unless `lastAttempt` (then whatever did unfurl is kept).
   */
  async unfurlMessage(channel: string, seq: number, opts: { lastAttempt?: boolean } = {}): Promise<UnfurlOutcome> {
    const target = await this.repository.find(channel, seq);
    if (!target || target.deleted) return { status: 'gone' };
    if (target.encrypted) return { status: 'encrypted' };
    if (target.text === null) return { status: 'gone' };
    const urls = extractUrls(target.text, this.options.maxUrls);
    const previews = target.attachments ?? [];
    if (urls.length === 0 && previews.length === 0) return { status: 'no_links' };
    const known = new Set(previews.map((a) => a.original_url));
    const missing = urls.filter((u) => !known.has(u));
    const unlinked = previews.some((a) => !urls.includes(a.original_url));
    if (missing.length === 0 && !unlinked) return { status: 'up_to_date' };

    const fetched = await Promise.all(missing.map((url) => this.preview(url)));
    const retryable = fetched.flatMap((f) => (f.refusal?.retryable ? [f.refusal.reason] : []));
    if (retryable.length > 0 && !opts.lastAttempt) throw new UnfurlRetryable(retryable);
    const fresh = fetched.flatMap((f) => (f.attachment ? [f.attachment] : []));
    if (fresh.length === 0 && !unlinked) return { status: 'up_to_date' };

    return this.events.transaction(async (tx): Promise<UnfurlOutcome> => {
      const head = await tx.lockChannel(channel, target.workspace_id);
      if (!head || head.is_archived) return { status: 'gone' };
      // Under the channel lock nothing can edit or delete the message until commit: check it again.
      const current = await this.repository.find(channel, seq, tx.db);
      if (!current || current.deleted) return { status: 'gone' };
      if (current.encrypted) return { status: 'encrypted' };
      if (current.text === null) return { status: 'gone' };
      const linked = extractUrls(current.text, this.options.maxUrls);
      const stored = current.attachments ?? [];
      const existing = stored.filter((a) => linked.includes(a.original_url));
      const added = fresh.filter((a) => linked.includes(a.original_url) && !existing.some((e) => e.original_url === a.original_url));
      if (added.length === 0 && existing.length === stored.length) return { status: 'up_to_date' };
      const attachments = [...existing, ...added]
        .sort((a, b) => linked.indexOf(a.original_url) - linked.indexOf(b.original_url))
        .map((a, i) => ({ ...a, id: i + 1 }));
      const appended = await tx.append(channel, 'message_changed', current.user_id, { message_ts: Number(current.ts), unfurl: true });
      await this.repository.storeAttachments(tx.db, channel, seq, attachments.length ? attachments : null);
      return { status: 'unfurled', seq: appended.seq, attachments };
    });
  }

  private async preview(url: string): Promise<Fetched> {
    try {
      const page = await safeFetch(url, this.options);
      const attachment = await buildAttachment(url, page, 0);
      if (!attachment) this.log.debug(`no preview metadata at ${origin(url)}`);
      return { url, attachment };
    } catch (caught) {
      // One link that fails in a way nobody foresaw is skipped, not the job: the other links keep their previews.
      const err = caught instanceof UnfurlRefused ? caught : new UnfurlRefused('unexpected', false);
      if (!(caught instanceof UnfurlRefused)) this.log.warn(`skipped a link of ${origin(url)}: ${(caught as Error).name}`);
      // Only the origin: paths and query strings can carry secrets (signed links, tokens).
      this.log.debug(`${err.retryable ? 'will retry' : 'skipped'} ${origin(url)}: ${err.reason}`);
      return { url, refusal: err };
    }
  }
}

function origin(url: string): string {
  return new URL(url).origin;
}
