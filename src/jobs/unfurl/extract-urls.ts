/** The longest URL worth unfurling; longer ones are skipped, not truncated. */
const MAX_URL_LENGTH = 2048;

// Slack markup: <https://x|label> and <https://x>. Other <...> (mentions, mailto) are not links we fetch.
const MARKUP = /<([^<>|\s]+)(?:\|[^<>]*)?>/g;
const BARE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAILING_CHARS = '.,;:!?"]}*_~';

/**
 * The http(s) URLs of a message, in order of appearance, without duplicates, at most `max`.
 * Malformed ones (no host, bad port, spaces, credentials, other schemes) are skipped.
 */
export function extractUrls(text: string, max = 3): string[] {
  const found: string[] = [];
  const add = (candidate: string) => {
    const url = normalize(unescapeSlack(candidate));
    if (url && !found.includes(url)) found.push(url);
  };
  for (const m of text.matchAll(MARKUP)) if (/^https?:\/\//i.test(m[1])) add(m[1]);
  for (const m of text.replace(MARKUP, ' ').matchAll(BARE)) add(trimTrailing(m[0]));
  return found.slice(0, max);
}

function normalize(candidate: string): string | undefined {
  if (candidate.length > MAX_URL_LENGTH) return undefined;
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (!url.hostname || url.username || url.password) return undefined;
  url.hash = '';
  return url.href;
}

// Slack escapes &, < and > in message text.
function unescapeSlack(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

// "see https://x.com/a)." -> https://x.com/a, but keep a closing paren the URL opened (Wikipedia).
function trimTrailing(url: string): string {
  let out = url;
  for (;;) {
    const last = out.at(-1);
    if (!last) return out;
    if (TRAILING_CHARS.includes(last)) out = out.slice(0, -1);
    else if (last === ')' && count(out, '(') < count(out, ')')) out = out.slice(0, -1);
    else return out;
  }
}

function count(s: string, ch: string): number {
  return s.split(ch).length - 1;
}
