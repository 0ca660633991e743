import { randomBytes } from 'node:crypto';
import { EventStore } from '../../src/event-store/event-store.js';
import { formatCursor, type GlobalCursor, parseCursor, START } from '../../src/event-store/events.js';
import { ReplayRepository } from '../../src/replay/replay.repository.js';
import { type ReplayFilter, type ReplayPage, ReplayService } from '../../src/replay/replay.service.js';
import { parseTs } from '../../src/domain/ts.js';
import { OPERATOR_TOKEN, TestApp, type TestUser } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

// PostgreSQL builds the NDJSON lines now. The oracle is the way every line was written before
// (the event store's events through JSON.stringify, kept as ReplayService's `legacy` mode, which
// Citus still uses): the new output must be the same bytes, page for page, for every kind of event.
describe('replay lines built in SQL', () => {
  let t: TestApp;
  let store: EventStore;
  let fast: ReplayService;
  let oracle: ReplayService;
  let wsA: string;
  let wsB: string;
  let channels: string[];
  let vault: string;

  const WEIRD = `quote " backslash \\ slash / newline\nreturn\r tab\t ctrl \u0001\u001f\u007f emoji 😀 é 中 sep \u2028\u2029 </script> & <b>`;

  beforeAll(async () => {
    t = await TestApp.start({ EKM_LOCAL_MASTER_KEY: randomBytes(32).toString('base64'), PROJECTOR_ENABLED: 'false' });
    store = t.app.get(EventStore);
    fast = t.app.get(ReplayService);
    oracle = new ReplayService(store, new ReplayRepository(t.pool), { legacy: true });
    wsA = await t.newWorkspace('A');
    wsB = await t.newWorkspace('B');
    const ada = await t.newUser(wsA, 'admin');
    const bob = await t.newUser(wsA);
    const cy = await t.newUser(wsA);
    const general = await t.newChannel(ada, 'general', false, [bob]);
    const secret = await t.newChannel(ada, 'secret', true, [bob]);
    const post = async (channel: string, user: TestUser, text: string, extra: Record<string, string | boolean> = {}) => {
      const res = await t.api('chat.postMessage', user.token, { channel, text, ...extra });
      expect(res.body.ok).toBe(true);
      return res.body.ts as string;
    };

    const root = await post(general, ada, 'root of a thread');
    await post(general, bob, 'a reply', { thread_ts: root });
    await post(general, bob, 'a broadcast reply', { thread_ts: root, reply_broadcast: true });
    const weird = await post(general, ada, WEIRD, { client_msg_id: '6f1c8a0e-8a43-4f55-9a8e-6d0b7a5e2c11' });
    await t.api('chat.update', ada.token, { channel: general, ts: weird, text: `edited ${WEIRD}` });
    await t.api('chat.update', ada.token, { channel: general, ts: root, text: 'edited root' });
    // Blocks and attachments, a /me message, and an edit of the blocks (TypeScript shapes these lines).
    const rich = await t.api('chat.postMessage', ada.token, {
      channel: general,
      text: 'deploy done',
      blocks: JSON.stringify([{ type: 'section', text: { type: 'mrkdwn', text: `*deploy* ${WEIRD}` } }]),
      attachments: JSON.stringify([{ fallback: 'build 42', color: '#36a64f', text: 'all green' }]),
    });
    expect(rich.body).toMatchObject({ ok: true });
    await t.api('chat.update', ada.token, { channel: general, ts: rich.body.ts, text: 'deploy really done', blocks: '[]' });
    expect((await t.api('chat.meMessage', bob.token, { channel: general, text: 'waves' })).body.ok).toBe(true);
    const gone = await post(general, bob, 'to be deleted');
    await t.api('chat.update', bob.token, { channel: general, ts: gone, text: 'edited before deletion' });
    await t.api('chat.delete', bob.token, { channel: general, ts: gone });
    await t.api('reactions.add', bob.token, { channel: general, timestamp: root, name: 'eyes' });
    await t.api('reactions.add', ada.token, { channel: general, timestamp: root, name: 'tada' });
    await t.api('reactions.remove', bob.token, { channel: general, timestamp: root, name: 'eyes' });
    await t.api('pins.add', ada.token, { channel: general, timestamp: weird });
    await t.api('pins.remove', ada.token, { channel: general, timestamp: weird });
    await t.api('conversations.setTopic', ada.token, { channel: general, topic: `topic ${WEIRD}` });
    await t.api('conversations.setPurpose', ada.token, { channel: general, purpose: 'purpose' });
    await t.api('conversations.rename', ada.token, { channel: secret, name: 'renamed' });
    await t.api('conversations.invite', ada.token, { channel: secret, users: cy.id });
    await t.api('conversations.kick', ada.token, { channel: secret, user: cy.id });
    await t.api('conversations.join', cy.token, { channel: general });
    await t.api('conversations.leave', cy.token, { channel: general });
    await post(secret, bob, 'in secret');
    await t.api('conversations.archive', ada.token, { channel: secret });
    await t.api('conversations.unarchive', ada.token, { channel: secret });
    const dm = (await t.api('conversations.open', ada.token, { users: bob.id })).body.channel.id as string;
    await post(dm, ada, 'direct');

    // Link previews on a message that was edited since: the message_changed line carries them.
    const previewed = await post(general, ada, 'see the preview');
    // The text links the preview's URL (as the unfurler normalizes it), so the unfurl job, which drops
    // unlinked previews and cannot fetch a .invalid host, leaves them alone whenever it runs.
    await t.api('chat.update', ada.token, { channel: general, ts: previewed, text: 'see https://preview.invalid/page' });
    await t.pool.query(`UPDATE messages SET attachments = $3 WHERE channel_id = $1 AND ts = $2`, [
      general,
      String(parseTs(previewed)),
      JSON.stringify([
        {
          id: 1,
          from_url: 'https://preview.invalid/page',
          original_url: 'https://preview.invalid/page',
          fallback: 'Example',
          service_name: 'example.com',
          title: 'Ex "ample"',
        },
      ]),
    ]);
    // A body expired by retention: the row is kept deleted, the log says why.
    const expired = await post(general, bob, 'old news');
    await t.pool.query('UPDATE messages SET deleted = true, text = NULL WHERE channel_id = $1 AND ts = $2', [
      general,
      String(parseTs(expired)),
    ]);
    await store.transaction(async (tx) => {
      await tx.lockChannel(general);
      await tx.append(general, 'message_deleted', null, { message_ts: Number(parseTs(expired)), reason: 'retention' });
    });

    // An EKM workspace: bodies sealed before and after enabling, an edit of a sealed body.
    const eve = await t.newUser(wsB, 'admin');
    vault = await t.newChannel(eve, 'vault');
    await post(vault, eve, `before EKM ${WEIRD}`);
    const enabled = await t.admin('POST', `/workspaces/${wsB}/ekm`, { provider: 'local' });
    expect(enabled.status).toBe(202);
    const run = `/workspaces/${wsB}/ekm/runs/${enabled.body.run.id}`;
    await waitFor(async () => (await t.admin('GET', run)).body.status === 'done', 20_000, 'the encrypt run');
    const sealed = await post(vault, eve, 'after EKM');
    await t.api('chat.update', eve.token, { channel: vault, ts: sealed, text: 'after EKM, edited' });
    await post(vault, eve, 'plain talk in a sealed channel', { thread_ts: sealed });

    channels = [general, secret, dm, vault];
    const total = Number((await t.pool.query('SELECT count(*) AS n FROM events')).rows[0].n);
    await waitFor(async () => (await store.readGlobal(START, 100_000)).length === total, 10_000, 'every event in the global stream');
  });
  afterAll(() => t.close());

  const all = async (pages: AsyncGenerator<ReplayPage>) => {
    const out: ReplayPage[] = [];
    for await (const page of pages) out.push(page);
    return out;
  };

  it('covers every kind of line, and the SQL built most of them', async () => {
    const text = (await all(oracle.global(START))).map((p) => p.ndjson).join('');
    for (const type of [
      'message',
      'message_changed',
      'message_deleted',
      'channel_created',
      'member_joined_channel',
      'member_left_channel',
    ]) {
      expect(text).toContain(`"type":"${type}"`);
    }
    for (const needle of [
      '"kind":"im"',
      '"subtype":"thread_broadcast"',
      '"subtype":"tombstone"',
      '"reason":"retention"',
      '"attachments":[',
      '"kicked_by":',
      '"inviter":',
      '"edited":{',
      '"reply_count":2',
      '"topic":',
      '"reaction_removed"',
      '"pin_removed"',
      '"channel_archive"',
      '"channel_unarchive"',
      '"channel_rename"',
      '"channel_purpose"',
      'after EKM, edited',
      '\\u0001',
    ]) {
      expect({ needle, found: text.includes(needle) }).toEqual({ needle, found: true });
    }
    // A client_msg_id (a uuid, written unescaped) on a message and on the message its edit carries.
    const withId = text.split('\n').filter((l) => l.includes('"client_msg_id":"6f1c8a0e-8a43-4f55-9a8e-6d0b7a5e2c11"'));
    expect(withId.map((l) => (JSON.parse(l) as { type: string }).type).sort()).toEqual(['message', 'message_changed']);
    const rows = await new ReplayRepository(t.pool).globalLines(START, 100_000);
    expect(rows.filter((r) => r.line === null).length).toBeLessThan(rows.length / 4);
  });

  it('writes each channel byte for byte as before, with resumption, limits, filters and any page size', async () => {
    const filters: Array<ReplayFilter | undefined> = [undefined, { types: new Set(['message', 'message_changed']) }];
    for (const channel of channels) {
      const whole = (await all(oracle.channel(channel, 0)))
        .map((p) => p.ndjson)
        .join('')
        .split('\n')
        .filter(Boolean);
      const tsOf = (i: number) => parseTs(JSON.parse(whole[Math.min(i, whole.length - 1)]).ts as string)!;
      filters.push({ oldest: tsOf(2), latest: tsOf(5) });
      for (const afterSeq of [0, 2, whole.length])
        for (const limit of [undefined, 1, 4])
          for (const filter of filters)
            for (const pageSize of [3, 1000]) {
              const opts = { limit, filter, pageSize };
              expect({ channel, afterSeq, opts, pages: await all(fast.channel(channel, afterSeq, opts)) }).toEqual({
                channel,
                afterSeq,
                opts,
                pages: await all(oracle.channel(channel, afterSeq, opts)),
              });
            }
      filters.pop();
    }
  });

  it('writes the global stream byte for byte as before, from any cursor, per workspace and channel', async () => {
    const whole = (await all(oracle.global(START)))
      .map((p) => p.ndjson)
      .join('')
      .split('\n')
      .filter(Boolean);
    const cursors: GlobalCursor[] = [START, parseCursor(JSON.parse(whole[7]).cursor)!, parseCursor(JSON.parse(whole.at(-1)!).cursor)!];
    const variants = [
      {},
      { workspace: wsA },
      { workspace: wsB },
      { channel: vault },
      { limit: 5 },
      { workspace: wsA, filter: { types: new Set(['message']) }, limit: 3 },
    ];
    for (const cursor of cursors)
      for (const variant of variants)
        for (const pageSize of [4, 1000]) {
          const opts = { ...variant, pageSize };
          const at = formatCursor(cursor);
          expect({ at, opts, pages: await all(fast.global(cursor, opts)) }).toEqual({
            at,
            opts,
            pages: await all(oracle.global(cursor, opts)),
          });
        }
  });

  it('streams the same bytes over HTTP', async () => {
    const http = async (path: string) =>
      (await fetch(`${t.url}/admin/v1${path}`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } })).text();
    expect(await http('/events')).toBe((await all(oracle.global(START))).map((p) => p.ndjson).join(''));
    expect(await http(`/channels/${channels[0]}/events?after_seq=3&limit=9`)).toBe(
      (await all(oracle.channel(channels[0], 3, { limit: 9 }))).map((p) => p.ndjson).join(''),
    );
  });
});
