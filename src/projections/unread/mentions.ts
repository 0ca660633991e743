/** Who a message mentions, read from Slack markup in its text. */
export interface Mentions {
  /** Distinct user ids of `<@U123>` / `<@U123|name>`, sorted (deterministic rows). */
  users: string[];
  /** `<!channel>` or `<!everyone>`. */
  channel: boolean;
  /** `<!here>`. */
  here: boolean;
}

const USER = /<@([UW][A-Z0-9]{1,20})(?:\|[^>]*)?>/g;
const BROADCAST = /<!(channel|everyone|here)(?:\|[^>]*)?>/g;

export function parseMentions(text: string | undefined | null): Mentions {
  const mentions: Mentions = { users: [], channel: false, here: false };
  if (!text) return mentions;
  const users = new Set<string>();
  for (const m of text.matchAll(USER)) users.add(m[1]);
  for (const m of text.matchAll(BROADCAST)) {
    if (m[1] === 'here') mentions.here = true;
    else mentions.channel = true;
  }
  mentions.users = [...users].sort();
  return mentions;
}
