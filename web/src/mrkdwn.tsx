import type { ComponentChildren } from 'preact';

/**
 * Slack mrkdwn to Preact nodes. Every piece of user text ends up as a text node (never HTML), and
 * only http(s) URLs become links. Handles code blocks, inline code, *bold*, _italic_, ~strike~,
 * > quotes, <url|label>, bare URLs, <@U…>, <#C…|name>, <!here>/<!channel>/<!everyone>.
 */
export interface MrkdwnContext {
  userName(id: string): string;
  channelName(id: string): string | undefined;
}

const decode = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

export function safeHref(url: string): string | null {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

export function Link({ href, children }: { href: string; children: ComponentChildren }) {
  const safe = safeHref(href);
  if (!safe) return <span class="link-text">{children}</span>;
  return (
    <a href={safe} target="_blank" rel="noopener noreferrer">
      {children}
    </a>
  );
}

// <...> | `code` | *bold* | _italic_ | ~strike~ | bare URL
const INLINE =
  /<([^<>\n]+)>|`([^`\n]+)`|(?<![\w*])\*([^*\n]+)\*(?![\w*])|(?<![\w_])_([^_\n]+)_(?![\w_])|(?<![\w~])~([^~\n]+)~(?![\w~])|(https?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]])/g;

function inline(text: string, ctx: MrkdwnContext): ComponentChildren[] {
  const out: ComponentChildren[] = [];
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    if (m.index > last) out.push(decode(text.slice(last, m.index)));
    last = m.index + m[0].length;
    if (m[1] !== undefined) out.push(angle(m[1], ctx));
    else if (m[2] !== undefined) out.push(<code>{decode(m[2])}</code>);
    else if (m[3] !== undefined) out.push(<strong>{inline(m[3], ctx)}</strong>);
    else if (m[4] !== undefined) out.push(<em>{inline(m[4], ctx)}</em>);
    else if (m[5] !== undefined) out.push(<s>{inline(m[5], ctx)}</s>);
    else out.push(<Link href={m[6]}>{m[6]}</Link>);
  }
  if (last < text.length) out.push(decode(text.slice(last)));
  return out;
}

/** The inside of <...>: a mention, a channel, a special mention or a link. */
function angle(body: string, ctx: MrkdwnContext): ComponentChildren {
  const [target, label] = splitOnce(body, '|');
  if (target.startsWith('@U') || target.startsWith('@W')) {
    return <span class="mention">@{ctx.userName(target.slice(1))}</span>;
  }
  if (target.startsWith('#C') || target.startsWith('#G')) {
    return <span class="mention">#{label ?? ctx.channelName(target.slice(1)) ?? target.slice(1)}</span>;
  }
  if (target.startsWith('!')) {
    const word = target.slice(1).split('^')[0];
    return <span class="mention">@{label ?? word}</span>;
  }
  const href = decode(target);
  if (!safeHref(href)) return decode(`<${body}>`);
  return <Link href={href}>{decode(label ?? target)}</Link>;
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const at = s.indexOf(sep);
  return at < 0 ? [s, undefined] : [s.slice(0, at), s.slice(at + 1)];
}

/** Block level: ``` code blocks, > quote runs, lines. */
export function Mrkdwn({ text, ctx }: { text: string; ctx: MrkdwnContext }) {
  const blocks: ComponentChildren[] = [];
  const parts = text.split('```');
  parts.forEach((part, i) => {
    // Odd parts are inside ``` fences (an unclosed fence stays text).
    if (i % 2 === 1 && i < parts.length - 1) {
      blocks.push(<pre>{decode(part.replace(/^\n/, ''))}</pre>);
      return;
    }
    let chunk = i % 2 === 1 ? '```' + part : part;
    if (i > 0) chunk = chunk.replace(/^\n/, '');
    if (i < parts.length - 1) chunk = chunk.replace(/\n$/, '');
    if (!chunk) return;
    let quote: string[] = [];
    const lines: ComponentChildren[] = [];
    const flushQuote = () => {
      if (quote.length) lines.push(<blockquote>{withBreaks(quote, ctx)}</blockquote>);
      quote = [];
    };
    const plain: string[] = [];
    const flushPlain = () => {
      if (plain.length) lines.push(<span>{withBreaks(plain, ctx)}</span>);
      plain.length = 0;
    };
    for (const line of chunk.split('\n')) {
      const q = /^(?:&gt;|>) ?(.*)$/.exec(line);
      if (q) {
        flushPlain();
        quote.push(q[1]);
      } else {
        flushQuote();
        plain.push(line);
      }
    }
    flushPlain();
    flushQuote();
    blocks.push(...lines);
  });
  return <div class="mrkdwn">{blocks}</div>;
}

function withBreaks(lines: string[], ctx: MrkdwnContext): ComponentChildren[] {
  const out: ComponentChildren[] = [];
  lines.forEach((line, i) => {
    if (i) out.push(<br />);
    out.push(...inline(line, ctx));
  });
  return out;
}
