import { randomUUID } from 'node:crypto';
import { EventStore } from '../../src/event-store/event-store.js';
import { TestApp, type TestUser } from '../support/test-app.js';

// conversations.history and conversations.replies as Slack defines them, and idempotent sends.

type Message = {
  type: string;
  user: string;
  text: string;
  ts: string;
  thread_ts?: string;
  reply_count?: number;
  latest_reply?: string;
  subtype?: string;
};

describe('history and threads', () => {
  let t: TestApp;
  let ada: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    t = await TestApp.start();
    const ws = await t.newWorkspace();
    ada = await t.newUser(ws);
    bob = await t.newUser(ws);
  });
  afterAll(() => t.close());

  let channelCount = 0;
  const newChannel = () => t.newChannel(ada, `history-${++channelCount}`, false, [bob]);

  async function post(channel: string, text: string, extra: Record<string, string | boolean> = {}, user = ada): Promise<string> {
    const res = await t.api('chat.postMessage', user.token, { channel, text, ...extra });
    if (!res.body.ok) throw new Error(JSON.stringify(res.body));
    return res.body.ts;
  }

  async function history(channel: string, args: Record<string, string | number | boolean> = {}) {
    const res = await t.api('conversations.history', bob.token, { channel, ...args });
    expect(res.body.ok).toBe(true);
    return res.body as { messages: Message[]; has_more: boolean; response_metadata: { next_cursor: string } };
  }

  const texts = (messages: Message[]) => messages.map((m) => m.text);

  describe('conversations.history', () => {
    let channel: string;
    let ts: string[]; // m0..m5, oldest first

    beforeAll(async () => {
      channel = await newChannel();
      ts = [];
      for (let i = 0; i < 6; i++) ts.push(await post(channel, `m${i}`));
    });

    it('lists messages newest first with Slack’s message shape', async () => {
      const page = await history(channel);
      expect(texts(page.messages)).toEqual(['m5', 'm4', 'm3', 'm2', 'm1', 'm0']);
      expect(page.messages[0]).toEqual({ type: 'message', user: ada.id, text: 'm5', ts: ts[5] });
      expect(page.has_more).toBe(false);
      expect(page.response_metadata.next_cursor).toBe('');
      // Membership events are stream events, not messages: they are not in history.
      expect(page.messages.every((m) => m.type === 'message' && !m.subtype)).toBe(true);
    });

    it('treats oldest and latest as exclusive by default', async () => {
      expect(texts((await history(channel, { oldest: ts[1], latest: ts[4] })).messages)).toEqual(['m3', 'm2']);
      expect(texts((await history(channel, { oldest: ts[4] })).messages)).toEqual(['m5']);
      expect(texts((await history(channel, { latest: ts[1] })).messages)).toEqual(['m0']);
      expect(texts((await history(channel, { oldest: ts[2], latest: ts[2] })).messages)).toEqual([]);
    });

    it('includes both ends with inclusive=true (and with 1 or "1")', async () => {
      for (const inclusive of [true, 'true', 1, '1']) {
        expect(texts((await history(channel, { oldest: ts[1], latest: ts[4], inclusive })).messages)).toEqual(['m4', 'm3', 'm2', 'm1']);
      }
      expect(texts((await history(channel, { oldest: ts[2], latest: ts[2], inclusive: true })).messages)).toEqual(['m2']);
      expect(texts((await history(channel, { oldest: ts[1], latest: ts[4], inclusive: false })).messages)).toEqual(['m3', 'm2']);
    });

    it('accepts a ts with fewer than six decimals, and an empty range when oldest is after latest', async () => {
      const seconds = ts[3].split('.')[0];
      const later = await history(channel, { oldest: seconds });
      expect(later.messages.length).toBeGreaterThan(0);
      expect(later.messages.every((m) => m.ts > seconds)).toBe(true);
      expect((await history(channel, { oldest: ts[4], latest: ts[1] })).messages).toEqual([]);
    });

    it('pages with limit, has_more and next_cursor, ending with an empty cursor', async () => {
      const seen: string[] = [];
      const pages: Array<{ n: number; has_more: boolean; cursor: string }> = [];
      let cursor: string | undefined;
      for (let i = 0; i < 10; i++) {
        const page = await history(channel, { limit: 4, ...(cursor ? { cursor } : {}) });
        seen.push(...texts(page.messages));
        pages.push({ n: page.messages.length, has_more: page.has_more, cursor: page.response_metadata.next_cursor });
        cursor = page.response_metadata.next_cursor;
        if (!cursor) break;
      }
      expect(seen).toEqual(['m5', 'm4', 'm3', 'm2', 'm1', 'm0']);
      expect(pages.map(({ n, has_more }) => ({ n, has_more }))).toEqual([
        { n: 4, has_more: true },
        { n: 2, has_more: false },
      ]);
      expect(pages[0].cursor).not.toBe('');
      expect(pages[1].cursor).toBe('');
    });

    it('has no more when the last page is exactly full', async () => {
      const page = await history(channel, { limit: 6 });
      expect(page.messages).toHaveLength(6);
      expect(page.has_more).toBe(false);
      expect(page.response_metadata.next_cursor).toBe('');
    });

    it('keeps the oldest bound while following the cursor', async () => {
      const first = await history(channel, { oldest: ts[1], limit: 2 });
      expect(texts(first.messages)).toEqual(['m5', 'm4']);
      expect(first.has_more).toBe(true);
      const second = await history(channel, { oldest: ts[1], limit: 2, cursor: first.response_metadata.next_cursor });
      expect(texts(second.messages)).toEqual(['m3', 'm2']);
      expect(second.has_more).toBe(false);
      expect(second.response_metadata.next_cursor).toBe('');
    });

    it('pages within latest and inclusive bounds', async () => {
      const first = await history(channel, { latest: ts[3], inclusive: true, limit: 3 });
      expect(texts(first.messages)).toEqual(['m3', 'm2', 'm1']);
      const second = await history(channel, { latest: ts[3], inclusive: true, limit: 3, cursor: first.response_metadata.next_cursor });
      expect(texts(second.messages)).toEqual(['m0']);
      expect(second.has_more).toBe(false);
    });

    it('answers chat.update and chat.delete with the canonical ts, however it was written', async () => {
      const ch = await newChannel();
      const ts = await post(ch, 'to edit');
      const padded = `0${ts}`; // the same instant, written differently
      const edited = await t.api('chat.update', ada.token, { channel: ch, ts: padded, text: 'edited' });
      expect(edited.body).toMatchObject({ ok: true, ts, message: { ts } });
      const deleted = await t.api('chat.delete', ada.token, { channel: ch, ts: padded });
      expect(deleted.body).toMatchObject({ ok: true, ts });
    });

    it('shows edits and hides deletions', async () => {
      const ch = await newChannel();
      const a = await post(ch, 'first');
      const b = await post(ch, 'second');
      expect((await t.api('chat.update', ada.token, { channel: ch, ts: a, text: 'first (edited)' })).body.ok).toBe(true);
      expect((await t.api('chat.delete', ada.token, { channel: ch, ts: b })).body.ok).toBe(true);
      const page = await history(ch);
      expect(page.messages).toHaveLength(1);
      expect(page.messages[0]).toMatchObject({ ts: a, text: 'first (edited)', edited: { user: ada.id } });
    });
  });

  describe('threads', () => {
    let channel: string;
    let parent: string;
    let replies: string[];
    let broadcast: string;
    let after: string;

    beforeAll(async () => {
      channel = await newChannel();
      await post(channel, 'before');
      parent = await post(channel, 'parent');
      replies = [];
      for (let i = 0; i < 5; i++) replies.push(await post(channel, `reply ${i}`, { thread_ts: parent }, i % 2 ? bob : ada));
      broadcast = await post(channel, 'broadcast reply', { thread_ts: parent, reply_broadcast: true });
      after = await post(channel, 'after');
    });

    it('keeps replies out of history, except a reply_broadcast', async () => {
      const page = await history(channel);
      expect(texts(page.messages)).toEqual(['after', 'broadcast reply', 'parent', 'before']);
      expect(page.messages[1]).toMatchObject({ ts: broadcast, thread_ts: parent, subtype: 'thread_broadcast' });
    });

    it('shows reply_count, latest_reply and thread_ts on the parent', async () => {
      const page = await history(channel);
      const shown = page.messages.find((m) => m.ts === parent)!;
      expect(shown).toMatchObject({ thread_ts: parent, reply_count: 6, latest_reply: broadcast });
      // Messages without replies carry none of the thread fields.
      for (const m of page.messages.filter((m) => m.ts === after)) {
        expect(m.thread_ts).toBeUndefined();
        expect(m.reply_count).toBeUndefined();
      }
    });

    it('lists the parent first, then the replies oldest first', async () => {
      const res = await t.api('conversations.replies', bob.token, { channel, ts: parent });
      expect(res.body).toMatchObject({ ok: true, has_more: false, response_metadata: { next_cursor: '' } });
      expect(res.body.messages.map((m: Message) => m.ts)).toEqual([parent, ...replies, broadcast]);
      expect(res.body.messages.slice(1).every((m: Message) => m.thread_ts === parent)).toBe(true);
      expect(res.body.messages[2]).toMatchObject({ user: bob.id, text: 'reply 1' });
    });

    it('answers the whole thread when asked with a reply’s ts', async () => {
      const res = await t.api('conversations.replies', bob.token, { channel, ts: replies[2] });
      expect(res.body.messages.map((m: Message) => m.ts)).toEqual([parent, ...replies, broadcast]);
    });

    it('pages replies: parent and replies on the first page, then the rest, without gaps or repeats', async () => {
      const seen: string[] = [];
      const flags: boolean[] = [];
      let cursor: string | undefined;
      for (let i = 0; i < 10; i++) {
        const res = await t.api('conversations.replies', bob.token, { channel, ts: parent, limit: 3, ...(cursor ? { cursor } : {}) });
        expect(res.body.ok).toBe(true);
        expect(res.body.messages.length).toBeLessThanOrEqual(3);
        seen.push(...res.body.messages.map((m: Message) => m.ts));
        flags.push(res.body.has_more);
        cursor = res.body.response_metadata.next_cursor;
        if (!cursor) break;
      }
      expect(seen).toEqual([parent, ...replies, broadcast]);
      expect(flags[flags.length - 1]).toBe(false);
      expect(flags.slice(0, -1).every(Boolean)).toBe(true);
    });

    it('never returns more than limit messages, even with limit=1 (the parent alone, then one reply a page)', async () => {
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let i = 0; i < 20; i++) {
        const res = await t.api('conversations.replies', bob.token, { channel, ts: parent, limit: 1, ...(cursor ? { cursor } : {}) });
        expect(res.body.messages).toHaveLength(1);
        seen.push(res.body.messages[0].ts);
        cursor = res.body.response_metadata.next_cursor;
        expect(res.body.has_more).toBe(cursor !== '');
        if (!cursor) break;
      }
      expect(seen).toEqual([parent, ...replies, broadcast]);
    });

    it('a reply to a reply joins the parent’s thread', async () => {
      const ch = await newChannel();
      const root = await post(ch, 'root');
      const first = await post(ch, 'first reply', { thread_ts: root });
      const res = await t.api('chat.postMessage', bob.token, { channel: ch, text: 'nested', thread_ts: first });
      expect(res.body).toMatchObject({ ok: true, message: { thread_ts: root } });
      const thread = await t.api('conversations.replies', bob.token, { channel: ch, ts: root });
      expect(thread.body.messages.map((m: Message) => m.text)).toEqual(['root', 'first reply', 'nested']);
      expect(thread.body.messages[0]).toMatchObject({ reply_count: 2, latest_reply: res.body.ts });
    });

    it('deleting a parent keeps its replies reachable behind a tombstone, until the last reply goes', async () => {
      const ch = await newChannel();
      const root = await post(ch, 'secret parent');
      const r1 = await post(ch, 'reply one', { thread_ts: root }, bob);
      const r2 = await post(ch, 'reply two', { thread_ts: root }, bob);
      expect((await t.api('chat.delete', ada.token, { channel: ch, ts: root })).body.ok).toBe(true);

      const tombstone = {
        type: 'message',
        subtype: 'tombstone',
        hidden: true,
        user: 'USLACKBOT',
        text: 'This message was deleted.',
        ts: root,
        thread_ts: root,
      };
      const page = await history(ch);
      expect(page.messages).toEqual([{ ...tombstone, reply_count: 2, latest_reply: r2 }]);
      for (const ts of [root, r1]) {
        const thread = await t.api('conversations.replies', bob.token, { channel: ch, ts });
        expect(thread.body.messages.map((m: Message) => m.text)).toEqual(['This message was deleted.', 'reply one', 'reply two']);
        expect(JSON.stringify(thread.body)).not.toContain('secret parent');
      }
      // The tombstone is not a message: it cannot be edited or deleted again.
      expect((await t.api('chat.update', ada.token, { channel: ch, ts: root, text: 'back' })).body.error).toBe('message_not_found');
      expect((await t.api('chat.delete', ada.token, { channel: ch, ts: root })).body.error).toBe('message_not_found');
      // The thread stays open: replying to the tombstone replies to its thread.
      const r3 = await post(ch, 'reply three', { thread_ts: root }, bob);
      expect((await t.api('chat.delete', bob.token, { channel: ch, ts: r3 })).body.ok).toBe(true);

      expect((await t.api('chat.delete', bob.token, { channel: ch, ts: r2 })).body.ok).toBe(true);
      expect((await history(ch)).messages).toEqual([{ ...tombstone, reply_count: 1, latest_reply: r1 }]);
      expect((await t.api('chat.delete', bob.token, { channel: ch, ts: r1 })).body.ok).toBe(true);
      expect((await history(ch)).messages).toEqual([]);
      expect((await t.api('conversations.replies', bob.token, { channel: ch, ts: root })).body.error).toBe('thread_not_found');
    });

    it('ignores reply_broadcast outside a thread', async () => {
      const ch = await newChannel();
      const ts = await post(ch, 'not a reply', { reply_broadcast: true });
      const page = await history(ch);
      expect(page.messages).toEqual([{ type: 'message', user: ada.id, text: 'not a reply', ts }]);
      const events = await t.app.get(EventStore).readChannel(ch, 0, 100);
      expect(events.find((e) => e.type === 'message')).not.toHaveProperty('subtype');
    });

    it('a message with no replies lists alone', async () => {
      const res = await t.api('conversations.replies', bob.token, { channel, ts: after });
      expect(res.body).toMatchObject({ ok: true, has_more: false, messages: [{ ts: after, text: 'after' }] });
      expect(res.body.messages[0].reply_count).toBeUndefined();
    });
  });

  describe('client_msg_id', () => {
    it('the same id sent 10 times concurrently makes one message, and every response carries its ts', async () => {
      const channel = await newChannel();
      const before = await t.tableCounts();
      const id = randomUUID();
      const responses = await Promise.all(
        Array.from({ length: 10 }, (_, i) => t.api('chat.postMessage', ada.token, { channel, text: `attempt ${i}`, client_msg_id: id })),
      );
      for (const res of responses) expect(res.body).toMatchObject({ ok: true, channel });
      const tsSet = new Set(responses.map((r) => r.body.ts));
      const seqSet = new Set(responses.map((r) => r.body.seq));
      expect(tsSet.size).toBe(1);
      expect(seqSet.size).toBe(1);

      const after = await t.tableCounts();
      expect(after.events - before.events).toBe(1);
      expect(after.messages - before.messages).toBe(1);
      const page = await history(channel);
      expect(page.messages).toHaveLength(1);
      expect(page.messages[0]).toMatchObject({ ts: [...tsSet][0], client_msg_id: id });
      // Every response describes the stored message (the attempt that won), not its own attempt.
      expect(page.messages[0].text).toMatch(/^attempt \d$/);
      for (const res of responses)
        expect(res.body.message).toMatchObject({ ts: [...tsSet][0], text: page.messages[0].text, client_msg_id: id });

      // A retry long after still answers the original, and writes nothing.
      const retry = await t.api('chat.postMessage', ada.token, { channel, text: 'again', client_msg_id: id });
      expect(retry.body).toMatchObject({ ok: true, ts: [...tsSet][0], message: { text: page.messages[0].text } });
      expect(await t.tableCounts()).toEqual(after);
    });

    it('a retried thread reply keeps its thread and counts once', async () => {
      const channel = await newChannel();
      const parent = await post(channel, 'parent');
      const id = randomUUID();
      const responses = await Promise.all(
        Array.from({ length: 5 }, () =>
          t.api('chat.postMessage', ada.token, { channel, text: 'reply', thread_ts: parent, client_msg_id: id }),
        ),
      );
      expect(new Set(responses.map((r) => r.body.ts)).size).toBe(1);
      for (const res of responses) expect(res.body.message.thread_ts).toBe(parent);
      const thread = await t.api('conversations.replies', ada.token, { channel, ts: parent });
      expect(thread.body.messages).toHaveLength(2);
      expect(thread.body.messages[0].reply_count).toBe(1);
    });

    it('the same id in another channel is another message', async () => {
      const [one, two] = [await newChannel(), await newChannel()];
      const id = randomUUID();
      const a = await t.api('chat.postMessage', ada.token, { channel: one, text: 'x', client_msg_id: id });
      const b = await t.api('chat.postMessage', ada.token, { channel: two, text: 'x', client_msg_id: id });
      expect(a.body.ok && b.body.ok).toBe(true);
      expect((await history(one)).messages).toHaveLength(1);
      expect((await history(two)).messages).toHaveLength(1);
    });

    it('is scoped to its author: another user reusing the id posts their own message', async () => {
      const channel = await newChannel();
      const id = randomUUID();
      const a = await t.api('chat.postMessage', ada.token, { channel, text: 'from ada', client_msg_id: id });
      const b = await t.api('chat.postMessage', bob.token, { channel, text: 'from bob', client_msg_id: id });
      expect(a.body).toMatchObject({ ok: true, message: { user: ada.id, text: 'from ada' } });
      expect(b.body).toMatchObject({ ok: true, message: { user: bob.id, text: 'from bob' } });
      expect(b.body.ts).not.toBe(a.body.ts);
      expect(texts((await history(channel)).messages)).toEqual(['from bob', 'from ada']);
    });

    it('checks access first: a non-member reusing a posted id gets not_in_channel and writes nothing', async () => {
      const channel = await newChannel();
      const id = randomUUID();
      expect((await t.api('chat.postMessage', ada.token, { channel, text: 'hi', client_msg_id: id })).body.ok).toBe(true);
      const carol = await t.newUser(ada.workspace);
      const before = await t.tableCounts();
      const outsider = await t.api('chat.postMessage', carol.token, { channel, text: 'sneak', client_msg_id: id });
      expect(outsider.body).toEqual({ ok: false, error: 'not_in_channel' });
      expect(await t.tableCounts()).toEqual(before);
    });
  });
});
