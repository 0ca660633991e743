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
 * writes `count` messages into the real tables as chat.postMessage leaves them: per channel a
 * gapless seq after the head, a strictly increasing ts, a `message` event with `{}` data, the body
 * row, and the channel head moved on (what post_message() does, set-based, 2,000 rows a
 * statement: posting them one by one took most of the run on a busy box).
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
      await client.query(
        `WITH input AS (
           SELECT channel, body, n, row_number() OVER (PARTITION BY channel ORDER BY n) AS k
             FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS m(channel, body, n)),
         heads AS (
           SELECT c.id, c.head_seq, greatest((extract(epoch FROM clock_timestamp()) * 1000000)::bigint, c.head_ts + 1) AS base_ts
             FROM channels c WHERE c.id IN (SELECT channel FROM input) FOR UPDATE),
         posted AS (
           SELECT i.channel, h.head_seq + i.k AS seq, h.base_ts + i.k - 1 AS ts, i.body, i.n
             FROM input i JOIN heads h ON h.id = i.channel),
         appended AS (
           INSERT INTO events (channel_id, seq, ts, type, user_id, data)
           SELECT channel, seq, ts, 'message', $1, '{}' FROM posted ORDER BY n),
         bodies AS (
           INSERT INTO messages (channel_id, seq, ts, user_id, text) SELECT channel, seq, ts, $1, body FROM posted)
         UPDATE channels c SET head_seq = p.seq, head_ts = p.ts
           FROM (SELECT channel, max(seq) AS seq, max(ts) AS ts FROM posted GROUP BY channel) p
          WHERE c.id = p.channel`,
        [user, channels, texts],
      );
    }
  } finally {
    await client.end();
  }
  return { workspace: data.workspace, user, channels: data.channels, count: opts.count };
}
