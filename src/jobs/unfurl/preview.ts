import ogs from 'open-graph-scraper';
import type { MessageAttachment } from '../../domain/message.js';

const MAX_TITLE = 300;
const MAX_TEXT = 700;

/**
 * A Slack-style link attachment from a fetched page's OpenGraph / Twitter Card / <title> metadata,
 * or undefined when the page names nothing worth showing. Only parsing happens here: the HTML was
 * fetched by safeFetch, so open-graph-scraper never makes a request of its own.
 */
export async function buildAttachment(
  originalUrl: string,
  page: { url: URL; html: string },
  id: number,
): Promise<MessageAttachment | undefined> {
  const head = headOf(page.html);
  // open-graph-scraper rejects (rather than returns) on some input, e.g. an empty page: no preview then.
  const parsed = head.trim() ? await ogs({ html: head }).catch(() => undefined) : undefined;
  if (!parsed) return undefined;
  const { result } = parsed;
  const title = clean(result.ogTitle ?? result.twitterTitle ?? result.dcTitle, MAX_TITLE);
  const text = clean(result.ogDescription ?? result.twitterDescription ?? result.dcDescription, MAX_TEXT);
  if (!title && !text) return undefined;
  const serviceName = clean(result.ogSiteName, MAX_TITLE) ?? page.url.hostname;
  const imageUrl = absoluteHttpUrl(result.ogImage?.[0]?.url ?? result.twitterImage?.[0]?.url, page.url);
  const attachment: MessageAttachment = {
    id,
    from_url: originalUrl,
    original_url: originalUrl,
    service_name: serviceName,
    fallback: `${serviceName}: ${title ?? text}`,
  };
  if (title) {
    attachment.title = title;
    attachment.title_link = page.url.href;
  }
  if (text) attachment.text = text;
  if (imageUrl) attachment.image_url = imageUrl;
  return attachment;
}

// Metadata lives in <head>; parsing the body as well made a 20 KB page ~10x slower to read.
function headOf(html: string): string {
  const end = html.search(/<\/head\s*>/i);
  return end === -1 ? html : html.slice(0, end);
}

function clean(value: string | undefined, max: number): string | undefined {
  const s = value?.replace(/\s+/g, ' ').trim();
  if (!s) return undefined;
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

// og:image may be relative; a client must never be handed a javascript: or data: URL.
function absoluteHttpUrl(value: string | undefined, base: URL): string | undefined {
  if (!value) return undefined;
  try {
    const url = new URL(value, base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}
