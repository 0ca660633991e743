import { ProjectorService } from '../../src/projections/projector.service.js';
import { TestApp, type TestUser } from '../support/test-app.js';

const day = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

describe('search.messages and search.all', () => {
  let t: TestApp;
  let ws: string;
  let ann: TestUser;
  let bob: TestUser;
  let cal: TestUser;
  let general: string;
  let random: string;
  let secret: string;

  beforeAll(async () => {
    t = await TestApp.start();
    ws = await t.newWorkspace();
    ann = await t.newUser(ws, 'member', 'ann');
    bob = await t.newUser(ws, 'member', 'bob');
    cal = await t.newUser(ws, 'member', 'cal');
    general = await t.newChannel(ann, 'general', false, [bob, cal]);
    random = await t.newChannel(bob, 'random', false, [ann]);
    secret = await t.newChannel(ann, 'secret', true, [bob]);
  });
  afterAll(() => t.close());

  const post = async (user: TestUser, channel: string, text: string, extra: Record<string, string> = {}) => {
    const res = await t.api('chat.postMessage', user.token, { channel, text, ...extra });
    expect(res.body.ok).toBe(true);
    return res.body.ts as string;
  };
  const caughtUp = () => t.app.get(ProjectorService).catchUp();
  const search = async (user: TestUser, query: string, args: Record<string, string | number | boolean> = {}) => {
    await caughtUp();
    const res = await t.api('search.messages', user.token, { query, ...args });
    expect(res.body).toMatchObject({ ok: true });
    return res.body;
  };
  const texts = async (user: TestUser, query: string, args: Record<string, string | number | boolean> = {}) =>
    (await search(user, query, { sort: 'timestamp', sort_dir: 'asc', ...args })).messages.matches.map((m: { text: string }) => m.text);

  it("finds words, case- and accent-blind, in Slack's result shape with highlights", async () => {
    const ts = await post(ann, general, 'The Café deploy is GREEN today');
    await post(bob, random, 'lunch at noon');
    const body = await search(bob, 'cafe green', { highlight: true });
    expect(body.query).toBe('cafe green');
    expect(body.messages.total).toBe(1);
    expect(body.messages.paging).toEqual({ count: 20, total: 1, page: 1, pages: 1 });
    expect(body.messages.pagination).toMatchObject({ total_count: 1, page: 1, per_page: 20, page_count: 1, first: 1, last: 1 });
    expect(body.messages.matches).toHaveLength(1);
    expect(body.messages.matches[0]).toMatchObject({
      type: 'message',
      user: ann.id,
      username: 'ann',
      ts,
      text: 'The \ue000Café\ue001 deploy is \ue000GREEN\ue001 today',
      channel: { id: general, name: 'general', is_channel: true, is_private: false, is_im: false },
    });
    expect(body.messages.matches[0].permalink).toMatch(new RegExp(`/archives/${general}/p${ts.replace('.', '')}$`));
    // Without highlight=true the text is as posted.
    expect(await texts(bob, 'cafe')).toEqual(['The Café deploy is GREEN today']);
  });

  it('quoted phrases match words in order; -word excludes', async () => {
    await post(ann, random, 'release train leaves at five');
    await post(ann, random, 'train release notes');
    await post(ann, random, 'release train delayed');
    expect(await texts(ann, '"release train"')).toEqual(['release train leaves at five', 'release train delayed']);
    expect(await texts(ann, 'release -delayed')).toEqual(['release train leaves at five', 'train release notes']);
    expect(await texts(ann, 'release -"release train"')).toEqual(['train release notes']);
  });

  it('in:#channel, in:<#C|name>, from:@user, from:<@U>, from:me', async () => {
    await post(bob, general, 'kiwi from bob in general');
    await post(ann, general, 'kiwi from ann in general');
    await post(bob, random, 'kiwi from bob in random');
    expect(await texts(ann, 'kiwi in:#random')).toEqual(['kiwi from bob in random']);
    expect(await texts(ann, `kiwi in:<#${general}|general>`)).toEqual(['kiwi from bob in general', 'kiwi from ann in general']);
    expect(await texts(ann, 'kiwi from:@bob')).toEqual(['kiwi from bob in general', 'kiwi from bob in random']);
    expect(await texts(ann, `kiwi from:<@${ann.id}>`)).toEqual(['kiwi from ann in general']);
    expect(await texts(ann, 'kiwi from:me in:#general')).toEqual(['kiwi from ann in general']);
    // Modifiers alone search everything they allow.
    expect(await texts(cal, 'from:@bob in:#random')).toEqual(['lunch at noon', 'kiwi from bob in random']);
    // Names that do not exist find nothing (not everything).
    expect(await texts(ann, 'kiwi from:@nobody')).toEqual([]);
    expect(await texts(ann, 'kiwi in:#nowhere')).toEqual([]);
  });

  it("in:@user searches the caller's DM with that user", async () => {
    const open = await t.api('conversations.open', ann.token, { users: cal.id });
    expect(open.body.ok).toBe(true);
    const dm = open.body.channel.id as string;
    await post(ann, dm, 'mango between ann and cal');
    await post(ann, general, 'mango in public');
    expect(await texts(ann, 'mango in:@cal')).toEqual(['mango between ann and cal']);
    expect(await texts(cal, 'mango in:@ann')).toEqual(['mango between ann and cal']);
    // Bob is in neither the DM nor has one with cal: he sees only the public one.
    expect(await texts(bob, 'mango')).toEqual(['mango in public']);
    expect(await texts(bob, 'mango in:@cal')).toEqual([]);
    const hit = (await search(ann, 'mango in:@cal')).messages.matches[0];
    expect(hit.channel).toMatchObject({ id: dm, is_im: true, is_private: true, is_channel: false });
  });

  it('before:, after:, on:, during: (UTC days, months, years)', async () => {
    await post(ann, general, 'papaya dated today');
    const [today, yesterday, tomorrow] = [day(0), day(-1), day(1)];
    expect(await texts(ann, `papaya on:${today}`)).toEqual(['papaya dated today']);
    expect(await texts(ann, `papaya on:${yesterday}`)).toEqual([]);
    expect(await texts(ann, `papaya before:${tomorrow}`)).toEqual(['papaya dated today']);
    expect(await texts(ann, `papaya before:${today}`)).toEqual([]);
    expect(await texts(ann, `papaya after:${yesterday}`)).toEqual(['papaya dated today']);
    expect(await texts(ann, `papaya after:${today}`)).toEqual([]);
    expect(await texts(ann, `papaya during:${today.slice(0, 7)}`)).toEqual(['papaya dated today']);
    expect(await texts(ann, `papaya during:${today.slice(0, 4)}`)).toEqual(['papaya dated today']);
    expect(await texts(ann, `papaya during:${Number(today.slice(0, 4)) - 1}`)).toEqual([]);
  });

  it('has:link, has:pin, has:reaction', async () => {
    await post(ann, general, 'guava docs at <https://example.org/docs|the docs>');
    await post(ann, general, 'guava docs at https://example.org/raw');
    const pinned = await post(ann, general, 'guava pinned');
    const reacted = await post(ann, general, 'guava reacted');
    await post(ann, general, 'guava plain');
    expect((await t.api('pins.add', ann.token, { channel: general, timestamp: pinned })).body.ok).toBe(true);
    expect((await t.api('reactions.add', bob.token, { channel: general, timestamp: reacted, name: 'tada' })).body.ok).toBe(true);
    expect(await texts(ann, 'guava has:link')).toEqual([
      'guava docs at <https://example.org/docs|the docs>',
      'guava docs at https://example.org/raw',
    ]);
    expect(await texts(ann, 'guava has:pin')).toEqual(['guava pinned']);
    expect(await texts(ann, 'guava has:reaction')).toEqual(['guava reacted']);
    // A link's label is searchable too.
    expect(await texts(ann, 'guava "the docs"')).toEqual(['guava docs at <https://example.org/docs|the docs>']);
    // Unpinning is seen at once: pins and reactions are read at query time.
    expect((await t.api('pins.remove', ann.token, { channel: general, timestamp: pinned })).body.ok).toBe(true);
    expect(await texts(ann, 'guava has:pin')).toEqual([]);
  });

  it('private channel hits: members only, and not after leaving', async () => {
    await post(ann, secret, 'quince plans are secret');
    expect(await texts(bob, 'quince')).toEqual(['quince plans are secret']);
    expect(await texts(cal, 'quince')).toEqual([]);
    expect(await texts(cal, 'quince in:#secret')).toEqual([]);
    expect((await search(cal, 'quince')).messages.total).toBe(0);
    expect((await t.api('conversations.leave', bob.token, { channel: secret })).body.ok).toBe(true);
    expect(await texts(bob, 'quince')).toEqual([]);
    expect((await search(bob, 'quince')).messages.total).toBe(0);
    // Another workspace sees nothing of this one.
    const other = await t.newWorkspace('Other');
    const eve = await t.newUser(other, 'admin', 'eve');
    expect(await texts(eve, 'kiwi')).toEqual([]);
  });

  it('edits re-index, deletes and thread replies are reflected', async () => {
    const ts = await post(ann, general, 'lychee original wording');
    const reply = await post(bob, general, 'lychee in a thread', { thread_ts: ts });
    expect(await texts(ann, 'lychee')).toEqual(['lychee original wording', 'lychee in a thread']);
    const replyHit = (await search(ann, 'thread lychee')).messages.matches[0];
    expect(replyHit).toMatchObject({ ts: reply, thread_ts: ts });
    expect(replyHit.permalink).toContain(`?thread_ts=${ts}&cid=${general}`);

    expect((await t.api('chat.update', ann.token, { channel: general, ts, text: 'lychee revised phrasing' })).body.ok).toBe(true);
    expect(await texts(ann, 'original')).toEqual([]);
    expect(await texts(ann, 'revised')).toEqual(['lychee revised phrasing']);

    expect((await t.api('chat.delete', bob.token, { channel: general, ts: reply })).body.ok).toBe(true);
    expect(await texts(ann, 'lychee')).toEqual(['lychee revised phrasing']);
    const { rows } = await t.pool.query('SELECT 1 FROM search_messages WHERE channel_id = $1 AND ts = $2', [
      general,
      reply.replace('.', ''),
    ]);
    expect(rows).toHaveLength(0);
  });

  it('sorts by score or timestamp both ways; pages by page/count and by cursor without gaps or duplicates', async () => {
    const posted: string[] = [];
    for (let i = 0; i < 7; i++) posted.push(await post(cal, general, `nectarine ${'nectarine '.repeat(i % 3)}number ${i}`));
    const asc = await search(cal, 'nectarine', { sort: 'timestamp', sort_dir: 'asc' });
    expect(asc.messages.matches.map((m: { ts: string }) => m.ts)).toEqual(posted);
    const desc = await search(cal, 'nectarine', { sort: 'timestamp' });
    expect(desc.messages.matches.map((m: { ts: string }) => m.ts)).toEqual([...posted].reverse());
    // Score: more occurrences rank higher.
    const byScore = (await search(cal, 'nectarine')).messages.matches as Array<{ ts: string; score: number }>;
    expect(byScore.map((m) => m.score)).toEqual([...byScore.map((m) => m.score)].sort((a, b) => b - a));
    expect(posted.indexOf(byScore[0].ts) % 3).toBe(2);

    const page2 = await search(cal, 'nectarine', { sort: 'timestamp', sort_dir: 'asc', count: 3, page: 2 });
    expect(page2.messages.matches.map((m: { ts: string }) => m.ts)).toEqual(posted.slice(3, 6));
    expect(page2.messages.paging).toEqual({ count: 3, total: 7, page: 2, pages: 3 });
    expect(page2.messages.pagination).toMatchObject({ first: 4, last: 6, page_count: 3 });
    const beyond = await search(cal, 'nectarine', { count: 3, page: 9 });
    expect(beyond.messages).toMatchObject({ total: 7, matches: [] });

    for (const sort of ['timestamp', 'score']) {
      const seen: string[] = [];
      let cursor = '*';
      for (let i = 0; i < 10 && cursor; i++) {
        const body = await search(cal, 'nectarine', { sort, count: 2, cursor });
        seen.push(...body.messages.matches.map((m: { ts: string }) => m.ts));
        cursor = body.response_metadata.next_cursor;
        expect(body.messages.pagination.next_cursor).toBe(cursor);
      }
      expect([...seen].sort()).toEqual([...posted].sort());
      expect(new Set(seen).size).toBe(7);
    }
  });

  it('bad input gets Slack errors, never a 500', async () => {
    const call = async (args: Record<string, string>) => (await t.api('search.messages', ann.token, args)).body;
    expect(await call({})).toEqual({ ok: false, error: 'no_query' });
    expect(await call({ query: '   ' })).toEqual({ ok: false, error: 'no_query' });
    expect(await call({ query: 'x', cursor: 'garbage' })).toEqual({ ok: false, error: 'invalid_cursor' });
    expect(await call({ query: 'x', count: '1000' })).toMatchObject({ ok: false, error: 'invalid_arguments' });
    expect(await call({ query: 'x', sort: 'random' })).toMatchObject({ ok: false, error: 'invalid_arguments' });
    expect(await call({ query: '"\'\\:&|!<->()' })).toMatchObject({ ok: true, messages: { total: 0 } });
    expect((await t.api('search.messages', undefined, { query: 'x' })).body).toEqual({ ok: false, error: 'not_authed' });
  });

  it('search.all answers messages and a files section', async () => {
    await caughtUp();
    const res = await t.api('search.all', ann.token, { query: 'kiwi in:#random' });
    expect(res.body).toMatchObject({
      ok: true,
      query: 'kiwi in:#random',
      messages: { total: 1, matches: [{ text: 'kiwi from bob in random' }] },
      files: { total: 0, matches: [] },
    });
  });
});
