import pg from 'pg';
import { seed } from '../append/setup.js';

/** A workspace with `count` plaintext messages spread round-robin over its channels. */
export interface SeededWorkspace {
  workspace: string;
  user: string;
  channels: string[];
  count: number;
}

const WORDS = (
  'the deploy went out at noon and the dashboards look calm can someone review the retention change ' +
  'before friday I moved the standup to ten thirty thanks for the quick fix on the unread counts ' +
  'we should rotate the staging key this week see the notes from the incident review for details'
).split(' ');

/**
 * Message bodies of 40 to 280 characters, the same sequence for every workspace (so that a
 * baseline and the code it is compared with work on identical rows). Deterministic: no Math.random.
 */
export function messageText(i: number): string {
  let x = (i + 1) * 2654435761;
  const next = () => (x = (Math.imul(x ^ (x >>> 15), 2246822507) + 0x9e3779b9) >>> 0);
  const length = 40 + (next() % 241);
  let text = `#${i}`;
  while (text.length < length) text += ` ${WORDS[next() % WORDS.length]}`;
  return text.slice(0, length);
}

/**
 * Seeds a workspace (one user, `channels` public channels, via the append benchmark's seeding) and
 * posts `count` messages through the real `post_message()` function, in chunks of one statement
 * each: the rows (events, messages, channel heads) are exactly those chat.postMessage writes,
 * without an HTTP or pool round trip per message.
 */
export async function seedMessages(
  url: string,
  opts: { channels: number; count: number; text?: (i: number) => string },
): Promise<SeededWorkspace> {
  const data = await seed(url, 1, opts.channels);
  const user = data.users[0].id;
  const text = opts.text ?? messageText;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const CHUNK = 2000;
    for (let start = 0; start < opts.count; start += CHUNK) {
      const n = Math.min(CHUNK, opts.count - start);
      const channels = Array.from({ length: n }, (_, k) => data.channels[(start + k) % data.channels.length]);
      const texts = Array.from({ length: n }, (_, k) => text(start + k));
      const { rows } = await client.query<{ error: string | null }>(
        `SELECT p.error FROM unnest($3::text[], $4::text[]) WITH ORDINALITY AS m(channel, body, n)
           CROSS JOIN LATERAL post_message($1, m.channel, $2, m.body, NULL, false, NULL) p ORDER BY m.n`,
        [data.workspace, user, channels, texts],
      );
      const failed = rows.find((r) => r.error);
      if (failed) throw new Error(`seeding failed: post_message said ${failed.error}`);
    }
  } finally {
    await client.end();
  }
  return { workspace: data.workspace, user, channels: data.channels, count: opts.count };
}
