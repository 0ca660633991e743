/**
 * The words of a text as search sees them, shared by the index (projections/search-index) and the
 * query (api/search), so both sides normalize alike: Slack markup unwrapped (`<url|label>` gives
 * both, `<@U1>` the id), Unicode NFKD with accents dropped, lower case, split on anything that is
 * not a letter, digit or underscore. No stemming: a word matches itself, case- and accent-blind.
 */

/** Longer runs are not words anyone searches for (and bound a lexeme's size). */
const MAX_WORD = 64;
/** tsvector positions stop at 16,383; later words of a 40,000-character message keep that position. */
const MAX_POSITION = 16_383;

const MARKUP = /<([^<>|]*)(?:\|([^<>]*))?>/g;
const SEPARATORS = /[^\p{L}\p{N}_]+/u;
const COMBINING = /\p{M}+/gu;

export function normalizeWord(word: string): string {
  return word.normalize('NFKD').replace(COMBINING, '').toLowerCase();
}

/** The words of a text in order (a word may repeat). */
export function searchWords(text: string): string[] {
  const plain = text.replace(MARKUP, (_m, target: string, label?: string) => ` ${target} ${label ?? ''} `);
  const words: string[] = [];
  for (const raw of normalizeWord(plain).split(SEPARATORS)) if (raw && raw.length <= MAX_WORD) words.push(raw);
  return words;
}

/**
 * A tsvector literal of the words, each mapped by `lexeme` (identity for plain words, a blind token
 * under EKM), with 1-based positions so phrases match. Lexemes must need no escaping (plain words
 * are letters, digits and `_`; blind tokens are hex).
 */
export function tsvectorLiteral(words: readonly string[], lexeme: (word: string) => string = (w) => w): string {
  const positions = new Map<string, number[]>();
  words.forEach((word, i) => {
    const key = lexeme(word);
    const list = positions.get(key);
    const pos = Math.min(i + 1, MAX_POSITION);
    if (!list) positions.set(key, [pos]);
    else if (list[list.length - 1] !== pos && list.length < 256) list.push(pos); // tsvector keeps 256 per lexeme
  });
  return [...positions].map(([key, pos]) => `'${key}':${pos.join(',')}`).join(' ');
}

/** Slack's highlight markers (search with `highlight=true`). */
export const HIGHLIGHT_START = '\ue000';
export const HIGHLIGHT_END = '\ue001';

/** Wraps every word of `text` whose normalized form is in `terms` with Slack's highlight markers. */
export function highlight(text: string, terms: ReadonlySet<string>): string {
  if (!terms.size) return text;
  return text.replace(/[\p{L}\p{N}_\p{M}]+/gu, (word) =>
    terms.has(normalizeWord(word)) ? `${HIGHLIGHT_START}${word}${HIGHLIGHT_END}` : word,
  );
}

/** A link in Slack markup (`<https://…>`) or a bare URL. */
export function hasLink(text: string): boolean {
  return /<(https?|mailto|ftp):[^>]*>|\bhttps?:\/\/\S/i.test(text);
}
