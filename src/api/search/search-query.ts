import { searchWords } from '../../domain/search-words.js';

/** A search query in Slack's syntax, parsed (pure: names are resolved by the search service). */
export interface SearchQuery {
  /** Single words that must occur (normalized). */
  words: string[];
  /** Quoted phrases (and bare tokens that split into several words, like `don't`): words in order. */
  phrases: string[][];
  /** `-word`, `-"a phrase"`: must not occur. */
  excluded: string[][];
  /** `in:#channel`, `in:<#C1|name>`, `in:C1`: any of them. */
  inChannels: string[];
  /** `in:@user`, `in:<@U1>`: the caller's DM with any of them. */
  inUsers: string[];
  /** `from:@user`, `from:<@U1>`, `from:me`: posted by any of them. */
  fromUsers: string[];
  /** Microsecond bounds: ts >= after, ts < before. */
  after?: bigint;
  before?: bigint;
  has: Set<'link' | 'pin' | 'reaction'>;
  /** Modifiers read: a query of neither words nor modifiers (only punctuation) finds nothing. */
  modifiers: number;
}

const MODIFIER = /^(in|from|before|after|on|during|has):(.+)$/i;
// A token: optional '-', then a quoted run (the closing quote may be missing) or a run of non-space.
const TOKEN = /(-?)(?:"([^"]*)"?|([^\s"]+))/g;
const DAY_US = 86_400_000_000n;

/** The day, month or year a date word names, as [start, end) in microseconds (UTC); undefined if it is none. */
export function dateRange(value: string, now = new Date()): [bigint, bigint] | undefined {
  const v = value.toLowerCase();
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const day = (ms: number): [bigint, bigint] => [BigInt(ms) * 1000n, BigInt(ms) * 1000n + DAY_US];
  if (v === 'today') return day(today);
  if (v === 'yesterday') return day(today - 86_400_000);
  let m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(v);
  if (m) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const ms = Date.UTC(y, mo - 1, d);
    const check = new Date(ms);
    if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return undefined; // 2024-02-31
    return day(ms);
  }
  m = /^(\d{4})-(\d{1,2})$/.exec(v);
  if (m && Number(m[2]) >= 1 && Number(m[2]) <= 12) {
    const [y, mo] = [Number(m[1]), Number(m[2])];
    return [BigInt(Date.UTC(y, mo - 1, 1)) * 1000n, BigInt(Date.UTC(y, mo, 1)) * 1000n];
  }
  m = /^(\d{4})$/.exec(v);
  if (m) return [BigInt(Date.UTC(Number(m[1]), 0, 1)) * 1000n, BigInt(Date.UTC(Number(m[1]) + 1, 0, 1)) * 1000n];
  return undefined;
}

/**
 * Parses Slack's search syntax. A modifier Slack would not understand (an unknown `has:`, a date
 * that is none) is searched as words, as Slack does with text it cannot read as a modifier.
 * Dates are UTC days: `before:` is before the day starts, `after:` after it ends, `on:` within it,
 * `during:` within the day, month (`2026-11`) or year (`2026`).
 */
export function parseSearchQuery(query: string, now = new Date()): SearchQuery {
  const q: SearchQuery = { words: [], phrases: [], excluded: [], inChannels: [], inUsers: [], fromUsers: [], has: new Set(), modifiers: 0 };
  const narrow = (after: bigint, before: bigint) => {
    q.after = q.after === undefined || after > q.after ? after : q.after;
    q.before = q.before === undefined || before < q.before ? before : q.before;
  };
  const text = (raw: string, negated: boolean, quoted: boolean) => {
    const words = searchWords(raw);
    if (!words.length) return;
    if (negated) q.excluded.push(words);
    else if (words.length === 1 && !quoted) q.words.push(words[0]);
    else q.phrases.push(words);
  };
  for (const m of query.matchAll(TOKEN)) {
    const negated = m[1] === '-';
    if (m[2] !== undefined) {
      text(m[2], negated, true);
      continue;
    }
    const token = m[3];
    const mod = negated ? null : MODIFIER.exec(token);
    if (mod && modifier(q, mod[1].toLowerCase(), mod[2], now, narrow)) q.modifiers++;
    else text(token, negated, false);
  }
  return q;
}

/** Applies one modifier; false when its value means nothing to it (then it is searched as text). */
function modifier(q: SearchQuery, name: string, value: string, now: Date, narrow: (after: bigint, before: bigint) => void): boolean {
  switch (name) {
    case 'in': {
      const user = userRef(value);
      if (user) q.inUsers.push(user);
      else q.inChannels.push(channelRef(value));
      return true;
    }
    case 'from': {
      const user = userRef(value) ?? (value.toLowerCase() === 'me' ? 'me' : undefined);
      if (!user) return false;
      q.fromUsers.push(user);
      return true;
    }
    case 'has': {
      const what = value.toLowerCase();
      if (what !== 'link' && what !== 'pin' && what !== 'reaction') return false;
      q.has.add(what);
      return true;
    }
    default: {
      const range = dateRange(value, now);
      if (!range) return false;
      if (name === 'before') narrow(0n, range[0]);
      else if (name === 'after') narrow(range[1], BigInt(Number.MAX_SAFE_INTEGER) * 1000n);
      else narrow(range[0], range[1]); // on:, during:
      return true;
    }
  }
}

/** `@name` or `<@U1>` / `<@U1|name>` → the name or id; undefined for anything else. */
function userRef(value: string): string | undefined {
  const mention = /^<@([A-Z0-9]+)(?:\|[^>]*)?>$/i.exec(value);
  if (mention) return mention[1];
  return value.startsWith('@') && value.length > 1 ? value.slice(1) : undefined;
}

/** `#name`, `<#C1|name>` or a bare name or id → the name or id. */
function channelRef(value: string): string {
  const link = /^<#([A-Z0-9]+)(?:\|[^>]*)?>$/i.exec(value);
  if (link) return link[1];
  return value.replace(/^#/, '');
}

/** Every word a match is highlighted for. */
export function highlightTerms(q: SearchQuery): Set<string> {
  return new Set([...q.words, ...q.phrases.flat()]);
}

/**
 * The query's words as a tsquery literal, each word mapped by `lexeme` (identity for plain words,
 * a blind token under EKM); undefined when the query has no word condition.
 */
export function tsqueryLiteral(q: SearchQuery, lexeme: (word: string) => string = (w) => w): string | undefined {
  const quote = (w: string) => `'${lexeme(w)}'`;
  const phrase = (ws: string[]) => (ws.length === 1 ? quote(ws[0]) : `(${ws.map(quote).join(' <-> ')})`);
  const parts = [...q.words.map(quote), ...q.phrases.map(phrase), ...q.excluded.map((ws) => `!${phrase(ws)}`)];
  return parts.length ? parts.join(' & ') : undefined;
}
