import { createRequire } from 'node:module';

// Slack's standard short names are those of iamcal's emoji-data (emoji-datasource on npm), the list
// Slack itself uses. A name may carry a skin tone (`wave::skin-tone-3`) when the emoji has variations.

interface EmojiData {
  short_name: string;
  short_names: string[];
  skin_variations?: unknown;
}

const data = createRequire(import.meta.url)('emoji-datasource/emoji.json') as EmojiData[];

/** Every short name (aliases too) → its canonical name (`thumbsup` → `+1`), and which take skin tones. */
const CANONICAL = new Map<string, string>();
const SKINNABLE = new Set<string>();
for (const emoji of data) {
  for (const alias of emoji.short_names) CANONICAL.set(alias, emoji.short_name);
  if (emoji.skin_variations) SKINNABLE.add(emoji.short_name);
}

/** Slack's rule for custom emoji names: lower case letters, digits, `-`, `_`, `'`, at most 100. */
export const CUSTOM_EMOJI_NAME = /^[a-z0-9_'-]{1,100}$/;

/**
 * The canonical standard name for `name` (colons around it allowed), or undefined when it is not a
 * standard emoji; custom emoji are the caller's to check.
 */
export function standardEmoji(name: string): string | undefined {
  const bare = name.replace(/^:(.*):$/, '$1');
  const [base, tone, ...rest] = bare.split('::');
  const canonical = CANONICAL.get(base);
  if (!canonical || rest.length) return undefined;
  if (tone === undefined) return canonical;
  return SKINNABLE.has(canonical) && /^skin-tone-[2-6]$/.test(tone) ? `${canonical}::${tone}` : undefined;
}

export const isStandardEmoji = (name: string) => CANONICAL.has(name);
