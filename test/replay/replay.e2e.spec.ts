import { EventStore } from '../../src/event-store/event-store.js';
import { ReplayService } from '../../src/replay/replay.service.js';
import { START } from '../../src/event-store/events.js';
import { OPERATOR_TOKEN, TestApp, type TestUser } from '../support/test-app.js';

// Replay over HTTP (NDJSON) against the event store's own reads, which are the ground truth.
describe('replay', () => {
  let t: TestApp;
  let store: EventStore;
  let wsA: string;
  let wsB: string;
  let ada: TestUser;
  let analyst: TestUser;
  let admin: TestUser;
  let member: TestUser;
  let outsider: TestUser;
  let general: string;
  let secret: string;
  let elsewhere: string;

  beforeAll(async () => {
    t = await TestApp.start();
    store = t.app.get(EventStore);
    wsA = await t.newWorkspace('A');
    wsB = await t.newWorkspace('B');
    ada = await t.newUser(wsA);
    member = await t.newUser(wsA);
    analyst = await t.newUser(wsA, 'analyst');
    admin = await t.newUser(wsA, 'admin');
    const bob = await t.newUser(wsB);
    outsider = await t.newUser(wsB, 'analyst');
    general = await t.newChannel(ada, 'general', false, [member]);
    secret = await t.newChannel(ada, 'secret', true);
    elsewhere = await t.newChannel(bob, 'elsewhere');
    for (let i = 0; i < 12; i++) {
      const posted = await t.api('chat.postMessage', ada.token, { channel: i % 3 ? general : secret, text: `message ${i}` });
      if (i === 4) await t.api('chat.update', ada.token, { channel: general, ts: posted.body.ts, text: 'edited' });
      if (i === 5) await t.api('chat.delete', ada.token, { channel: general, ts: posted.body.ts });
      await t.api('chat.postMessage', bob.token, { channel: elsewhere, text: `b ${i}` });
    }
  });
  afterAll(() => t.close());

  const get = async (path: string, token?: string) => {
    const res = await fetch(`${t.url}/admin/v1${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    const text = await res.text();
    return {
      status: res.status,
      type: res.headers.get('content-type'),
      text,
      lines: res.ok
        ? text
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l))
        : [],
    };
  };
  const wholeChannel = async (channel: string) => JSON.parse(JSON.stringify(await store.readChannel(channel, 0, 10_000)));

  it('streams one channel exactly, in seq order, as NDJSON', async () => {
    for (const token of [analyst.token, admin.token, OPERATOR_TOKEN]) {
      const res = await get(`/channels/${general}/events`, token);
      expect(res.status).toBe(200);
      expect(res.type).toMatch(/^application\/x-ndjson/);
      expect(res.lines).toEqual(await wholeChannel(general));
      expect(res.lines.map((e) => e.seq)).toEqual(res.lines.map((_, i) => i + 1));
    }
    // Private channels are replayable by the workspace's analysts, like every other channel.
    expect((await get(`/channels/${secret}/events`, analyst.token)).lines).toEqual(await wholeChannel(secret));
  });

  it('resumes after a seq, stops at a limit, and filters by type and time', async () => {
    const all = await wholeChannel(general);
    expect((await get(`/channels/${general}/events?after_seq=5&limit=3`, analyst.token)).lines).toEqual(all.slice(5, 8));
    expect((await get(`/channels/${general}/events?after_seq=${all.length}`, analyst.token)).lines).toEqual([]);
    const edits = (await get(`/channels/${general}/events?types=message_changed,message_deleted`, analyst.token)).lines;
    expect(edits.map((e) => e.type)).toEqual(['message_changed', 'message_deleted']);
    const window = (await get(`/channels/${general}/events?oldest=${all[3].ts}&latest=${all[6].ts}`, analyst.token)).lines;
    expect(window).toEqual(all.slice(3, 7));
  });

  it("streams every channel of the caller's workspace in global-cursor order, resumable from any line", async () => {
    const expected = async (workspaceChannels: string[]) => {
      const rows = await t.pool.query<{ channel_id: string; seq: string }>(
        'SELECT channel_id, seq FROM events WHERE channel_id = ANY($1) ORDER BY tx_id, position',
        [workspaceChannels],
      );
      return rows.rows.map((r) => `${r.channel_id}:${r.seq}`);
    };
    const want = await expected([general, secret]);
    // The global stream only shows transactions older than every open one (cluster-wide): wait for it.
    let res = await get('/events', analyst.token);
    for (let i = 0; i < 50 && res.lines.length < want.length; i++) {
      await new Promise((r) => setTimeout(r, 50));
      res = await get('/events', analyst.token);
    }
    expect(res.lines.map((e) => `${e.channel}:${e.seq}`)).toEqual(want);
    for (const line of res.lines) expect(line.cursor).toMatch(/^\d+-\d+$/);
    // Each line is the event as the channel stream has it, plus its cursor.
    const byChannel = new Map((await wholeChannel(general)).map((e: { seq: number }) => [e.seq, e]));
    const first = res.lines.find((e) => e.channel === general && e.seq === 3);
    expect({ ...first, cursor: undefined }).toEqual({ ...(byChannel.get(3) as object), cursor: undefined });

    const resumed = await get(`/events?after=${res.lines[9].cursor}&limit=5`, analyst.token);
    expect(resumed.lines).toEqual(res.lines.slice(10, 15));
    const onlySecret = await get(`/events?channel=${secret}`, analyst.token);
    expect(onlySecret.lines.map((e) => e.seq)).toEqual(res.lines.filter((e) => e.channel === secret).map((e) => e.seq));

    // The operator sees every workspace unless it picks one.
    const everything = (await get('/events', OPERATOR_TOKEN)).lines;
    expect(new Set(everything.map((e) => e.channel))).toEqual(new Set([general, secret, elsewhere]));
    expect((await get(`/events?workspace=${wsB}`, OPERATOR_TOKEN)).lines.every((e) => e.channel === elsewhere)).toBe(true);
  });

  it("refuses members, other workspaces' analysts and missing tokens", async () => {
    expect((await get(`/channels/${general}/events`, member.token)).status).toBe(403);
    expect((await get('/events', member.token)).status).toBe(403);
    expect((await get(`/channels/${general}/events`, outsider.token)).status).toBe(404);
    expect((await get(`/events?workspace=${wsA}`, outsider.token)).status).toBe(403);
    const own = (await get('/events', outsider.token)).lines;
    expect(own.every((e) => e.channel === elsewhere)).toBe(true);
    expect((await get(`/channels/${general}/events`)).status).toBe(401);
    expect((await get(`/channels/${general}/events`, 'xoxp-nope')).status).toBe(401);
    expect((await get(`/channels/CNOPE/events`, analyst.token)).status).toBe(404);
  });

  it('refuses bad parameters with 400', async () => {
    for (const query of ['after_seq=-1', 'limit=0', 'types=DROP TABLE', 'oldest=yesterday', 'extra=1']) {
      expect({ query, status: (await get(`/channels/${general}/events?${query}`, analyst.token)).status }).toEqual({ query, status: 400 });
    }
    expect((await get('/events?after=not-a-cursor', analyst.token)).status).toBe(400);
  });

  it('pages through a stream whatever the page size, with a resume position per page', async () => {
    const replay = t.app.get(ReplayService);
    const pages = [];
    for await (const page of replay.channel(general, 0, { pageSize: 3 })) pages.push(page);
    const events = pages.flatMap((p) => lines(p.ndjson));
    expect(events).toEqual(await wholeChannel(general));
    expect(pages.every((p) => p.kept <= 3 && lines(p.ndjson).length === p.kept)).toBe(true);
    expect(pages.at(-1)!.resume).toBe(String(events.at(-1)!.seq));

    const global = [];
    for await (const page of replay.global(START, { workspace: wsA, pageSize: 4, filter: { types: new Set(['message']) } }))
      global.push(...lines(page.ndjson));
    expect(global.every((e) => e.type === 'message' && (e.channel === general || e.channel === secret))).toBe(true);
  });
});

const lines = (ndjson: string): Array<{ channel: string; seq: number; type: string }> =>
  ndjson
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
