import { WebClient } from '@slack/web-api';
import { ChatRepository } from '../../src/api/chat/chat.repository.js';
import { issueToken } from '../../src/workspaces/tokens.js';
import { seedChannel } from '../support/fixtures.js';
import { TestApp } from '../support/test-app.js';

describe('16 concurrent writers x 500 posts to one channel', () => {
  let t: TestApp;
  beforeAll(async () => (t = await TestApp.start()));
  afterAll(() => t.close());

  it('gives seq exactly 1..8000, strictly increasing ts, and history pages return all 8000 in order', async () => {
    const writers = Array.from({ length: 16 }, (_, w) => `UW${w}`);
    const { channel, workspace } = await seedChannel(t.pool, { channel: 'CHOT', users: writers });
    const chat = t.app.get(ChatRepository);
    await Promise.all(
      writers.map(async (user, w) => {
        for (let i = 0; i < 500; i++) await chat.postMessage({ workspace, channel, user, text: `${w}:${i}` });
      }),
    );

    const { rows } = await t.pool.query<{ seq: string; ts: string }>('SELECT seq, ts FROM events WHERE channel_id = $1 ORDER BY seq', [
      channel,
    ]);
    expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: 8000 }, (_, i) => i + 1));
    for (let i = 1; i < rows.length; i++) expect(BigInt(rows[i].ts) > BigInt(rows[i - 1].ts)).toBe(true);

    // Each writer's own messages keep the order it sent them in.
    const texts = (
      await t.pool.query<{ text: string }>('SELECT text FROM messages WHERE channel_id = $1 ORDER BY seq', [channel])
    ).rows.map((r) => r.text);
    for (let w = 0; w < 16; w++) {
      const mine = texts.filter((x) => x.startsWith(`${w}:`)).map((x) => Number(x.split(':')[1]));
      expect(mine).toEqual(Array.from({ length: 500 }, (_, i) => i));
    }

    // Read back as one of the writers, through the official client and its paginator.
    const token = await tokenFor(t, writers[0]);
    const client = new WebClient(token, { slackApiUrl: `${t.url}/api/`, retryConfig: { retries: 0 } });
    const seen: string[] = [];
    for await (const page of client.paginate('conversations.history', { channel, limit: 999 })) {
      for (const m of (page as unknown as { messages: Array<{ ts: string }> }).messages) seen.push(m.ts);
    }
    const expected = [...rows].reverse().map((r) => `${r.ts.slice(0, -6)}.${r.ts.slice(-6)}`);
    expect(seen).toEqual(expected);
  });
});

/** Issues a real token for a seeded user (seeded users have none). */
async function tokenFor(t: TestApp, user: string): Promise<string> {
  const token = issueToken();
  await t.pool.query('INSERT INTO tokens (id, user_id, secret_hash) VALUES ($1, $2, $3)', [token.id, user, token.secretHash]);
  return token.token;
}
