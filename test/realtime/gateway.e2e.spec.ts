import { randomUUID } from 'node:crypto';
import { io } from 'socket.io-client';
import { TestApp, type TestUser } from '../support/test-app.js';
import { TestClient, waitFor } from './support.js';

describe('socket gateway', () => {
  let t: TestApp;
  beforeAll(async () => (t = await TestApp.start({ PRESENCE_AWAY_DELAY_MS: '50', SOCKET_MAX_PAYLOAD_BYTES: '200000' })));
  afterAll(() => t.close());

  const clients: TestClient[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.disconnect();
  });
  const client = (user: TestUser, options = {}) => {
    const c = new TestClient(user, t.url);
    clients.push(c);
    return c.connect(options);
  };
  /** A marker message in a public channel everyone watches: once it arrives, earlier signals have too. */
  const barrier = async (poster: TestUser, channel: string, watchers: TestClient[]) => {
    const { body } = await t.api('chat.postMessage', poster.token, { channel, text: 'barrier' });
    await waitFor(() => watchers.every((w) => w.seqs(channel).includes(body.seq)), 5000, 'barrier');
  };

  it('refuses a missing or bad token with connect_error and no socket', async () => {
    for (const auth of [{}, { token: 'xoxp-nope-nope' }, { token: 42 }, { token: 'x', cursors: 'bad' }]) {
      const socket = io(t.url, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
      const error = await new Promise<Error>((resolve, reject) => {
        socket.once('connect', () => reject(new Error('connected')));
        socket.once('connect_error', resolve);
      });
      expect(['not_authed', 'invalid_auth', 'invalid_cursors']).toContain(error.message);
      expect(socket.connected).toBe(false);
      socket.close();
    }
  });

  it('delivers live events of the user channels exactly as the store reads them', async () => {
    const ws = await t.newWorkspace();
    const ada = await t.newUser(ws);
    const bob = await t.newUser(ws);
    const channel = await t.newChannel(ada, 'live', false, [bob]);
    const b = await client(bob);
    const posted = await t.api('chat.postMessage', ada.token, { channel, text: 'hello' });
    await waitFor(() => b.seqs(channel).includes(posted.body.seq), 5000, 'the message');
    expect(b.events.at(-1)).toEqual({ channel, seq: posted.body.seq, ts: posted.body.ts, type: 'message', user: ada.id, text: 'hello' });
  });

  it('never sends a private channel event to a non-member; a kicked member stops at the kick', async () => {
    const ws = await t.newWorkspace();
    const ada = await t.newUser(ws, 'admin');
    const bob = await t.newUser(ws);
    const eve = await t.newUser(ws);
    const general = await t.newChannel(ada, 'general', false, [bob, eve]);
    const secret = await t.newChannel(ada, 'secret', true, [bob]);
    const [b, e] = [await client(bob), await client(eve)];
    await t.api('chat.postMessage', ada.token, { channel: secret, text: 'before' });
    const kick = await t.api('conversations.kick', ada.token, { channel: secret, user: bob.id });
    expect(kick.body.ok).toBe(true);
    await t.api('chat.postMessage', ada.token, { channel: secret, text: 'after the kick' });
    await barrier(ada, general, [b, e]);
    // The secret channel's events after bob's connection: the message, then his own leave event, nothing after.
    expect(b.events.filter((x) => x.channel === secret).map((x) => [x.type, x.user])).toEqual([
      ['message', ada.id],
      ['member_left_channel', bob.id],
    ]);
    expect(e.events.some((x) => x.channel === secret)).toBe(false);
    // A new socket of the kicked member does not follow the channel either.
    const b2 = await client(bob, { cursors: { [secret]: 0 } });
    await t.api('chat.postMessage', ada.token, { channel: secret, text: 'later' });
    await barrier(ada, general, [b2]);
    expect(b2.events.some((x) => x.channel === secret)).toBe(false);
  });

  it('a join takes effect at once: the joining socket gets its join event and what follows', async () => {
    const ws = await t.newWorkspace();
    const ada = await t.newUser(ws);
    const bob = await t.newUser(ws);
    const secret = await t.newChannel(ada, 'club', true);
    const b = await client(bob);
    expect((await t.api('conversations.invite', ada.token, { channel: secret, users: bob.id })).body.ok).toBe(true);
    const posted = await t.api('chat.postMessage', ada.token, { channel: secret, text: 'welcome' });
    await waitFor(() => b.seqs(secret).includes(posted.body.seq), 5000, 'the welcome');
    expect(b.seqs(secret)).toEqual([3, 4]);
    expect(b.events.find((x) => x.seq === 3 && x.channel === secret)).toMatchObject({
      type: 'member_joined_channel',
      user: bob.id,
      inviter: ada.id,
    });
  });

  it('sync below where a live socket started replays everything after the cursor, in order; at or past it, nothing twice', async () => {
    const ws = await t.newWorkspace();
    const ada = await t.newUser(ws);
    const bob = await t.newUser(ws);
    const channel = await t.newChannel(ada, 'replay', false, [bob]);
    const b = await client(bob); // live from the head (3)
    await t.api('chat.postMessage', ada.token, { channel, text: 'one' });
    await waitFor(() => b.last(channel) === 4, 5000, 'seq 4');
    expect(await b.ack('sync', { cursors: { [channel]: 4 } })).toEqual({ ok: true }); // what it has: nothing again
    const mark = b.seqs(channel).length;
    expect(await b.ack('sync', { cursors: { [channel]: 0 } })).toEqual({ ok: true });
    await t.api('chat.postMessage', ada.token, { channel, text: 'two' });
    await waitFor(() => b.last(channel) === 5, 5000, 'seq 5');
    expect(b.seqs(channel).slice(mark)).toEqual([1, 2, 3, 4, 5]);
    expect(await b.ack('sync', { cursors: { CNOTMINE: 0 } })).toEqual({ ok: true, not_in_channel: ['CNOTMINE'] });
  });

  it('post: acks with ts and seq, applies chat.postMessage rules, and is idempotent by client_msg_id', async () => {
    const ws = await t.newWorkspace();
    const ada = await t.newUser(ws);
    const bob = await t.newUser(ws);
    const channel = await t.newChannel(ada, 'posts', false, [bob]);
    const a = await client(ada);
    const b = await client(bob);
    const client_msg_id = randomUUID();
    const first = await a.ack('post', { channel, text: 'over the socket', client_msg_id });
    // seq 1 created, 2 ada joined, 3 bob invited.
    expect(first).toEqual({ ok: true, channel, ts: expect.stringMatching(/^\d+\.\d{6}$/), seq: 4 });
    const retry = await a.ack('post', { channel, text: 'over the socket', client_msg_id });
    expect(retry).toEqual(first);
    await waitFor(() => b.seqs(channel).includes(4), 5000, 'the post');
    expect(b.events.at(-1)).toMatchObject({ type: 'message', text: 'over the socket', client_msg_id, ts: first.ts });
    const before = await t.tableCounts();
    expect(await a.ack('post', { channel, text: '' })).toEqual({ ok: false, error: 'no_text' });
    expect(await a.ack('post', { channel, text: 'x'.repeat(40_001) })).toEqual({ ok: false, error: 'msg_too_long' });
    expect(await a.ack('post', { channel: 'CNOPE', text: 'hi' })).toEqual({ ok: false, error: 'channel_not_found' });
    expect(await a.ack('post', { channel, text: 'hi', thread_ts: '123.000001' })).toEqual({ ok: false, error: 'thread_not_found' });
    expect(await a.ack('post', { channel, text: 'hi', client_msg_id: 'not-a-uuid' })).toEqual({ ok: false, error: 'invalid_arguments' });
    expect(await t.tableCounts()).toEqual(before);
    // A reply in a thread.
    const reply = await a.ack('post', { channel, text: 'reply', thread_ts: first.ts });
    expect(reply).toMatchObject({ ok: true, seq: 5 });
  });

  it('answers malformed payloads with an error ack and keeps serving', async () => {
    const ws = await t.newWorkspace();
    const ada = await t.newUser(ws);
    const channel = await t.newChannel(ada, 'bad-input');
    const a = await client(ada);
    const bad: Array<[string, unknown]> = [
      ['sync', undefined],
      ['sync', 'x'],
      ['sync', [1, 2]],
      ['sync', { cursors: { [channel]: -1 } }],
      ['sync', { cursors: { [channel]: 'x' } }],
      ['sync', { cursors: { 'bad id': 1 } }],
      ['sync', { cursors: null }],
      ['post', null],
      ['post', 42],
      ['post', { channel: ['x'], text: 'y' }],
      ['post', { channel, text: { $gt: 1 } }],
      ['post', { channel, text: 'nul \u0000' }],
      ['typing', {}],
      ['typing', { channel: 5 }],
      ['view', 'x'],
      ['presence.subscribe', { users: 'U1' }],
      ['presence.subscribe', { users: [1] }],
      ['mark', {}],
      ['mark', { channel, ts: 'soon' }],
      ['toString', {}],
      ['constructor', {}],
      ['__proto__', {}],
      ['no.such.command', { channel }],
    ];
    for (const [event, payload] of bad) {
      const ack = await a.ack(event, payload);
      expect({ event, payload, ok: ack.ok, error: typeof ack.error }).toEqual({ event, payload, ok: false, error: 'string' });
      expect(JSON.stringify(ack)).not.toMatch(/at .*\.(ts|js)/);
    }
    // An oversized frame closes that connection (engine.io's maxHttpBufferSize); the server keeps going.
    const closed = new Promise((resolve) => a.socket!.once('disconnect', resolve));
    a.socket!.emit('post', { channel, text: 'x'.repeat(300_000) });
    await closed;
    const again = await client(ada);
    expect(await again.ack('post', { channel, text: 'still here' })).toMatchObject({ ok: true });
    expect(await again.ack('mark', { channel, ts: '1.000001' })).toEqual({ ok: true });
  });

  it('typing reaches only other members viewing the channel, throttled', async () => {
    const ws = await t.newWorkspace();
    const ada = await t.newUser(ws);
    const bob = await t.newUser(ws);
    const cat = await t.newUser(ws);
    const dan = await t.newUser(ws);
    const room = await t.newChannel(ada, 'typing-room', false, [bob, cat]);
    const other = await t.newChannel(ada, 'typing-other', false, [bob, cat, dan]);
    const [a, b, c, d] = [await client(ada), await client(bob), await client(cat), await client(dan)];
    expect(await b.ack('view', { channel: room })).toEqual({ ok: true });
    expect(await c.ack('view', { channel: other })).toEqual({ ok: true });
    expect(await d.ack('view', { channel: room })).toEqual({ ok: false, error: 'not_in_channel' });
    expect(await a.ack('view', { channel: room })).toEqual({ ok: true });
    expect(await a.ack('typing', { channel: room })).toEqual({ ok: true, sent: true });
    expect(await a.ack('typing', { channel: room })).toEqual({ ok: true, sent: false }); // throttled
    expect(await d.ack('typing', { channel: room })).toEqual({ ok: false, error: 'not_in_channel' });
    await waitFor(() => b.typing.length === 1, 5000, 'typing at bob');
    await barrier(ada, other, [a, b, c, d]);
    expect(b.typing).toEqual([{ channel: room, user: ada.id }]);
    expect(a.typing).toEqual([]); // not to the typist
    expect(c.typing).toEqual([]); // member, but looking elsewhere
    expect(d.typing).toEqual([]);
    const { rows } = await t.pool.query('SELECT type FROM events WHERE channel_id = $1 ORDER BY seq', [room]);
    expect(rows.map((r) => r.type)).toEqual(['channel_created', 'member_joined_channel', 'member_joined_channel', 'member_joined_channel']); // never persisted
  });

  it('presence goes to subscribers only: active on the first socket, away after the last closes', async () => {
    const ws = await t.newWorkspace();
    const ada = await t.newUser(ws);
    const bob = await t.newUser(ws);
    const cat = await t.newUser(ws);
    const a = await client(ada);
    const c = await client(cat);
    const sub = await a.ack('presence.subscribe', { users: [bob.id, 'UNOBODY'] });
    expect(sub).toEqual({ ok: true, presence: { [bob.id]: 'away' } });
    const b1 = await client(bob);
    await waitFor(() => a.presence.length === 1, 5000, 'active');
    const b2 = await client(bob); // a second socket changes nothing
    b1.disconnect();
    b2.disconnect();
    await waitFor(() => a.presence.length === 2, 5000, 'away');
    expect(a.presence).toEqual([
      { user: bob.id, presence: 'active' },
      { user: bob.id, presence: 'away' },
    ]);
    expect(c.presence).toEqual([]);
    expect(await a.ack('presence.subscribe', { users: [bob.id] })).toEqual({ ok: true, presence: { [bob.id]: 'away' } });
  });
});

describe('socket command budget', () => {
  let t: TestApp;
  beforeAll(async () => (t = await TestApp.start({ RATE_LIMIT_PER_MINUTE: '5' })));
  afterAll(() => t.close());

  it('answers ratelimited with retry_after once a token spent its budget, and writes nothing more', async () => {
    const ws = await t.newWorkspace();
    const ada = await t.newUser(ws);
    const channel = await t.newChannel(ada, 'budget');
    const a = await new TestClient(ada, t.url).connect({ ready: false });
    const acks = [];
    for (let i = 0; i < 7; i++) acks.push(await a.ack('post', { channel, text: `m${i}` }));
    expect(acks.slice(0, 5).every((x) => x.ok)).toBe(true);
    expect(acks[5]).toEqual({ ok: false, error: 'ratelimited', retry_after: expect.any(Number) });
    const { rows } = await t.pool.query("SELECT count(*)::int n FROM events WHERE channel_id = $1 AND type = 'message'", [channel]);
    expect(rows[0].n).toBe(5);
    a.disconnect();
  });
});

describe('presence when idle', () => {
  let t: TestApp;
  beforeAll(async () => (t = await TestApp.start({ PRESENCE_IDLE_MS: '300', PRESENCE_AWAY_DELAY_MS: '50' })));
  afterAll(() => t.close());

  it('a connected user whose sockets all went idle is away, and active again on their next action', async () => {
    const ws = await t.newWorkspace();
    const ada = await t.newUser(ws);
    const bob = await t.newUser(ws);
    const channel = await t.newChannel(bob, 'idle');
    const a = await new TestClient(ada, t.url).connect();
    await a.ack('presence.subscribe', { users: [bob.id] });
    const b = await new TestClient(bob, t.url).connect();
    await waitFor(() => a.presence.length >= 2, 5000, 'active, then away when idle');
    expect(await b.ack('view', { channel })).toEqual({ ok: true });
    await waitFor(() => a.presence.length >= 3, 5000, 'active again');
    // (it may go idle again after that: only the first three changes matter here)
    expect(a.presence.slice(0, 3)).toEqual([
      { user: bob.id, presence: 'active' },
      { user: bob.id, presence: 'away' },
      { user: bob.id, presence: 'active' },
    ]);
    a.disconnect();
    b.disconnect();
  });
});
