import { OPERATOR_TOKEN, TestApp, type TestUser } from '../support/test-app.js';

// Every bad input gets a clear Slack error (or 4xx on the admin API) and writes nothing.
// No response in this file may be an HTTP 500 or show a stack trace: `send` checks each one.

const STACK = /at .*\.js:\d+/;

interface Sent {
  status: number;
  headers: Headers;
  text: string;
  body: Record<string, any>;
}

interface Request {
  /** Path under the server, e.g. `/api/chat.postMessage`. */
  path: string;
  httpMethod?: 'GET' | 'POST';
  token?: string;
  /** A raw body string with its content type; or `form`/`json` for the usual encodings. */
  body?: string;
  contentType?: string;
  form?: Record<string, string | string[]>;
  json?: unknown;
  query?: Record<string, string>;
}

/** The world a case runs in: a workspace with a channel, a message in it and a few users. */
interface World {
  ada: TestUser; // member of `channel`, author of `ts`
  bob: TestUser; // member of the workspace, not of `channel`
  stranger: TestUser; // another workspace
  channel: string;
  solo: string; // private, ada its only member
  ts: string;
  deletedTs: string;
}

type Args = Record<string, string | string[]>;
type Case = [title: string, method: string, args: (w: World) => Args, error: string];

describe('bad input', () => {
  let t: TestApp;
  let w: World;

  async function send(req: Request): Promise<Sent> {
    const url = new URL(`${t.url}${req.path}`);
    for (const [k, v] of Object.entries(req.query ?? {})) url.searchParams.append(k, v);
    const headers: Record<string, string> = {};
    if (req.token) headers.authorization = `Bearer ${req.token}`;
    let body: string | undefined = req.body;
    if (req.contentType) headers['content-type'] = req.contentType;
    if (req.form) {
      const form = new URLSearchParams();
      for (const [k, v] of Object.entries(req.form)) for (const one of [v].flat()) form.append(k, one);
      body = form.toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    if (req.json !== undefined) {
      body = JSON.stringify(req.json);
      headers['content-type'] = 'application/json; charset=utf-8';
    }
    const res = await fetch(url, { method: req.httpMethod ?? 'POST', headers, body });
    const text = await res.text();
    // The file-wide rule, checked on every response.
    expect({ path: req.path, status: res.status }).not.toEqual({ path: req.path, status: 500 });
    expect(text).not.toMatch(STACK);
    let parsed: Record<string, any> = {};
    try {
      parsed = JSON.parse(text);
    } catch {
      // asserted by the caller where a JSON answer matters
    }
    return { status: res.status, headers: res.headers, text, body: parsed };
  }

  const api = (method: string, token: string | undefined, form: Args) => send({ path: `/api/${method}`, token, form });

  /** Runs `request` and asserts it changed no row of any table a write touches. */
  async function writesNothing<T>(request: () => Promise<T>): Promise<T> {
    const before = await t.tableCounts();
    const {
      rows: [heads],
    } = await t.pool.query('SELECT sum(head_seq)::int s FROM channels');
    const result = await request();
    expect(await t.tableCounts()).toEqual(before);
    expect((await t.pool.query('SELECT sum(head_seq)::int s FROM channels')).rows[0]).toEqual(heads);
    return result;
  }

  beforeAll(async () => {
    t = await TestApp.start();
    const ws = await t.newWorkspace();
    const ada = await t.newUser(ws, 'member', 'ada');
    const bob = await t.newUser(ws, 'member', 'bob');
    const stranger = await t.newUser(await t.newWorkspace('Other'), 'member', 'stranger');
    const channel = await t.newChannel(ada, 'general');
    const solo = await t.newChannel(ada, 'solo', true);
    await t.newChannel(ada, 'taken-name');
    const ts = (await t.api('chat.postMessage', ada.token, { channel, text: 'a message' })).body.ts;
    const deletedTs = (await t.api('chat.postMessage', ada.token, { channel, text: 'doomed' })).body.ts;
    expect((await t.api('chat.delete', ada.token, { channel, ts: deletedTs })).body.ok).toBe(true);
    w = { ada, bob, stranger, channel, solo, ts, deletedTs };
  });
  afterAll(() => t.close());

  const longText = (n: number) => 'x'.repeat(n);
  const b64 = (s: string) => Buffer.from(s).toString('base64');

  const cases: Case[] = [
    // chat.postMessage
    ['missing channel', 'chat.postMessage', () => ({ text: 'hi' }), 'channel_not_found'],
    ['empty channel', 'chat.postMessage', () => ({ channel: '', text: 'hi' }), 'channel_not_found'],
    ['channel given twice (an array)', 'chat.postMessage', (w) => ({ channel: [w.channel, w.channel], text: 'hi' }), 'channel_not_found'],
    ['unknown channel id', 'chat.postMessage', () => ({ channel: 'C0000000000', text: 'hi' }), 'channel_not_found'],
    [
      'channel id that is not an id',
      'chat.postMessage',
      () => ({ channel: "general'; DROP TABLE events; --", text: 'hi' }),
      'channel_not_found',
    ],
    ['missing text', 'chat.postMessage', (w) => ({ channel: w.channel }), 'no_text'],
    ['empty text', 'chat.postMessage', (w) => ({ channel: w.channel, text: '' }), 'no_text'],
    ['text of 40,001 characters', 'chat.postMessage', (w) => ({ channel: w.channel, text: longText(40_001) }), 'msg_too_long'],
    ['malformed thread_ts', 'chat.postMessage', (w) => ({ channel: w.channel, text: 'hi', thread_ts: 'yesterday' }), 'thread_not_found'],
    [
      'thread_ts with too many digits',
      'chat.postMessage',
      (w) => ({ channel: w.channel, text: 'hi', thread_ts: '1.1234567' }),
      'thread_not_found',
    ],
    [
      'thread_ts of no message',
      'chat.postMessage',
      (w) => ({ channel: w.channel, text: 'hi', thread_ts: '1000000000.000001' }),
      'thread_not_found',
    ],
    [
      'thread_ts of a deleted message',
      'chat.postMessage',
      (w) => ({ channel: w.channel, text: 'hi', thread_ts: w.deletedTs }),
      'thread_not_found',
    ],
    [
      'client_msg_id that is not a UUID',
      'chat.postMessage',
      (w) => ({ channel: w.channel, text: 'hi', client_msg_id: 'retry-1' }),
      'invalid_arguments',
    ],
    [
      'reply_broadcast that is not a boolean',
      'chat.postMessage',
      (w) => ({ channel: w.channel, text: 'hi', thread_ts: w.ts, reply_broadcast: 'maybe' }),
      'invalid_arguments',
    ],
    [
      'channel of another workspace',
      'chat.postMessage',
      (w) => ({ channel: w.channel, text: 'hi', token: w.stranger.token }),
      'channel_not_found',
    ],
    [
      'public channel the caller is not in',
      'chat.postMessage',
      (w) => ({ channel: w.channel, text: 'hi', token: w.bob.token }),
      'not_in_channel',
    ],

    // chat.update / chat.delete
    ['update: unknown ts', 'chat.update', (w) => ({ channel: w.channel, ts: '1000000000.000001', text: 'new' }), 'message_not_found'],
    ['update: malformed ts', 'chat.update', (w) => ({ channel: w.channel, ts: 'now', text: 'new' }), 'message_not_found'],
    ['update: missing ts', 'chat.update', (w) => ({ channel: w.channel, text: 'new' }), 'message_not_found'],
    ['update: deleted message', 'chat.update', (w) => ({ channel: w.channel, ts: w.deletedTs, text: 'new' }), 'message_not_found'],
    ['update: missing text', 'chat.update', (w) => ({ channel: w.channel, ts: w.ts }), 'no_text'],
    ['update: text of 40,001 characters', 'chat.update', (w) => ({ channel: w.channel, ts: w.ts, text: longText(40_001) }), 'msg_too_long'],
    ['update: unknown channel', 'chat.update', (w) => ({ channel: 'C0000000000', ts: w.ts, text: 'new' }), 'channel_not_found'],
    [
      'update: another member’s message',
      'chat.update',
      (w) => ({ channel: w.channel, ts: w.ts, text: 'mine', token: w.bob.token }),
      'cant_update_message',
    ],
    ['delete: unknown ts', 'chat.delete', (w) => ({ channel: w.channel, ts: '1000000000.000001' }), 'message_not_found'],
    ['delete: malformed ts', 'chat.delete', (w) => ({ channel: w.channel, ts: '-1' }), 'message_not_found'],
    ['delete: missing channel', 'chat.delete', (w) => ({ ts: w.ts }), 'channel_not_found'],
    ['delete: already deleted', 'chat.delete', (w) => ({ channel: w.channel, ts: w.deletedTs }), 'message_not_found'],

    // conversations.create
    ['create: missing name', 'conversations.create', () => ({}), 'invalid_name_required'],
    ['create: empty name', 'conversations.create', () => ({ name: '' }), 'invalid_name_required'],
    ['create: upper case and spaces', 'conversations.create', () => ({ name: 'Team Chat' }), 'invalid_name_specials'],
    ['create: punctuation', 'conversations.create', () => ({ name: 'team.chat!' }), 'invalid_name_specials'],
    ['create: only punctuation', 'conversations.create', () => ({ name: '--_-' }), 'invalid_name_punctuation'],
    ['create: name of 81 characters', 'conversations.create', () => ({ name: 'a'.repeat(81) }), 'invalid_name_maxlength'],
    ['create: name already taken', 'conversations.create', () => ({ name: 'taken-name' }), 'name_taken'],
    ['create: is_private not a boolean', 'conversations.create', () => ({ name: 'fresh', is_private: 'perhaps' }), 'invalid_arguments'],

    // conversations.invite / kick / join / leave / archive
    ['invite: unknown user', 'conversations.invite', (w) => ({ channel: w.channel, users: 'U0000000000' }), 'user_not_found'],
    ['invite: user of another workspace', 'conversations.invite', (w) => ({ channel: w.channel, users: w.stranger.id }), 'user_not_found'],
    [
      'invite: a good user and an unknown one (all or nothing)',
      'conversations.invite',
      (w) => ({ channel: w.channel, users: `${w.bob.id},U0000000000` }),
      'user_not_found',
    ],
    ['invite: missing users', 'conversations.invite', (w) => ({ channel: w.channel }), 'no_user'],
    ['invite: only commas', 'conversations.invite', (w) => ({ channel: w.channel, users: ',, ,' }), 'no_user'],
    ['invite: self', 'conversations.invite', (w) => ({ channel: w.channel, users: w.ada.id }), 'cant_invite_self'],
    ['invite: unknown channel', 'conversations.invite', (w) => ({ channel: 'C0000000000', users: w.bob.id }), 'channel_not_found'],
    ['kick: self', 'conversations.kick', (w) => ({ channel: w.channel, user: w.ada.id }), 'cant_kick_self'],
    ['kick: unknown user', 'conversations.kick', (w) => ({ channel: w.channel, user: 'U0000000000' }), 'user_not_found'],
    ['kick: user not in the channel', 'conversations.kick', (w) => ({ channel: w.channel, user: w.bob.id }), 'not_in_channel'],
    ['kick: missing user', 'conversations.kick', (w) => ({ channel: w.channel }), 'user_not_found'],
    ['join: unknown channel', 'conversations.join', () => ({ channel: 'C0000000000' }), 'channel_not_found'],
    ['join: missing channel', 'conversations.join', () => ({}), 'channel_not_found'],
    ['leave: unknown channel', 'conversations.leave', () => ({ channel: 'C0000000000' }), 'channel_not_found'],
    ['leave: the last member of a private channel', 'conversations.leave', (w) => ({ channel: w.solo }), 'last_member'],
    ['archive: by a non-member', 'conversations.archive', (w) => ({ channel: w.channel, token: w.bob.token }), 'not_in_channel'],

    // conversations.history / replies / info / list / members / mark
    ['history: oldest not a ts', 'conversations.history', (w) => ({ channel: w.channel, oldest: 'last week' }), 'invalid_ts_oldest'],
    ['history: latest not a ts', 'conversations.history', (w) => ({ channel: w.channel, latest: '12:00' }), 'invalid_ts_latest'],
    ['history: negative latest', 'conversations.history', (w) => ({ channel: w.channel, latest: '-5' }), 'invalid_ts_latest'],
    [
      'history: cursor that is not a cursor',
      'conversations.history',
      (w) => ({ channel: w.channel, cursor: 'not-a-cursor' }),
      'invalid_cursor',
    ],
    [
      'history: cursor of another listing',
      'conversations.history',
      (w) => ({ channel: w.channel, cursor: b64(`user:${w.ada.id}`) }),
      'invalid_cursor',
    ],
    [
      'history: cursor with a non-numeric ts',
      'conversations.history',
      (w) => ({ channel: w.channel, cursor: b64('next_ts:abc') }),
      'invalid_cursor',
    ],
    [
      'history: cursor past the int8 range',
      'conversations.history',
      (w) => ({ channel: w.channel, cursor: b64(`next_ts:${'9'.repeat(30)}`) }),
      'invalid_cursor',
    ],
    [
      'history: cursor hiding a NUL',
      'conversations.history',
      (w) => ({ channel: w.channel, cursor: b64('next_ts:1\u0000') }),
      'invalid_cursor',
    ],
    ['list: cursor hiding a NUL', 'conversations.list', () => ({ cursor: b64('id:C\u0000') }), 'invalid_cursor'],
    ['users.list: cursor hiding a NUL', 'users.list', () => ({ cursor: b64('user:U\u0000') }), 'invalid_cursor'],
    ['history: limit not an integer', 'conversations.history', (w) => ({ channel: w.channel, limit: 'ten' }), 'invalid_arguments'],
    ['history: fractional limit', 'conversations.history', (w) => ({ channel: w.channel, limit: '1.5' }), 'invalid_arguments'],
    ['history: zero limit', 'conversations.history', (w) => ({ channel: w.channel, limit: '0' }), 'invalid_arguments'],
    [
      'history: inclusive not a boolean',
      'conversations.history',
      (w) => ({ channel: w.channel, inclusive: 'sometimes' }),
      'invalid_arguments',
    ],
    ['history: missing channel', 'conversations.history', () => ({}), 'channel_not_found'],
    ['history: unknown channel', 'conversations.history', () => ({ channel: 'C0000000000' }), 'channel_not_found'],
    ['replies: missing ts', 'conversations.replies', (w) => ({ channel: w.channel }), 'thread_not_found'],
    ['replies: malformed ts', 'conversations.replies', (w) => ({ channel: w.channel, ts: 'first' }), 'thread_not_found'],
    ['replies: unknown ts', 'conversations.replies', (w) => ({ channel: w.channel, ts: '1000000000.000001' }), 'thread_not_found'],
    [
      'replies: bad cursor',
      'conversations.replies',
      (w) => ({ channel: w.channel, ts: w.ts, cursor: b64('after_ts:x') }),
      'invalid_cursor',
    ],
    [
      'replies: cursor past the int8 range',
      'conversations.replies',
      (w) => ({ channel: w.channel, ts: w.ts, cursor: b64(`after_ts:${'9'.repeat(30)}`) }),
      'invalid_cursor',
    ],
    ['info: unknown channel', 'conversations.info', () => ({ channel: 'C0000000000' }), 'channel_not_found'],
    [
      'info: include_num_members not a boolean',
      'conversations.info',
      (w) => ({ channel: w.channel, include_num_members: 'lots' }),
      'invalid_arguments',
    ],
    ['list: bad cursor', 'conversations.list', () => ({ cursor: b64('next_ts:1') }), 'invalid_cursor'],
    ['list: limit not an integer', 'conversations.list', () => ({ limit: '1e3' }), 'invalid_arguments'],
    ['list: exclude_archived not a boolean', 'conversations.list', () => ({ exclude_archived: 'yes please' }), 'invalid_arguments'],
    ['members: unknown channel', 'conversations.members', () => ({ channel: 'C0000000000' }), 'channel_not_found'],
    ['members: bad cursor', 'conversations.members', (w) => ({ channel: w.channel, cursor: '!!!' }), 'invalid_cursor'],
    ['members: negative limit', 'conversations.members', (w) => ({ channel: w.channel, limit: '-1' }), 'invalid_arguments'],
    ['mark: malformed ts', 'conversations.mark', (w) => ({ channel: w.channel, ts: 'soon' }), 'invalid_timestamp'],
    ['mark: not a member', 'conversations.mark', (w) => ({ channel: w.channel, ts: w.ts, token: w.bob.token }), 'not_in_channel'],

    // users
    ['users.info: unknown user', 'users.info', () => ({ user: 'U0000000000' }), 'user_not_found'],
    ['users.info: user of another workspace', 'users.info', (w) => ({ user: w.stranger.id }), 'user_not_found'],
    ['users.info: missing user', 'users.info', () => ({}), 'user_not_found'],
    ['users.list: bad cursor', 'users.list', () => ({ cursor: 'zzz' }), 'invalid_cursor'],
    ['users.list: limit not an integer', 'users.list', () => ({ limit: 'all' }), 'invalid_arguments'],

    // Strings PostgreSQL cannot store (a NUL character) are refused, not a 500.
    ['NUL in text', 'chat.postMessage', (w) => ({ channel: w.channel, text: 'a\u0000b' }), 'invalid_arguments'],
    ['NUL in channel', 'chat.postMessage', (w) => ({ channel: `${w.channel}\u0000`, text: 'hi' }), 'invalid_arguments'],
    ['NUL in a user id', 'users.info', () => ({ user: 'U\u0000' }), 'invalid_arguments'],
    ['NUL in a history channel', 'conversations.history', () => ({ channel: 'C\u0000' }), 'invalid_arguments'],
  ];

  it.each(cases.map(([title, method, args, error]) => [title, method, error, args] as const))(
    '%s: %s answers %s and writes nothing',
    async (_title, method, error, args) => {
      const { token, ...rest } = args(w);
      const res = await writesNothing(() => api(method, (token as string | undefined) ?? w.ada.token, rest));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ok: false, error });
    },
  );

  // Every argument of every method, given a value of each wrong kind: a Slack error or success,
  // never a 500 (send() asserts that), and always the {ok, error?} shape.
  const SWEEP: Record<string, string[]> = {
    'chat.postMessage': ['channel', 'text', 'thread_ts', 'client_msg_id', 'reply_broadcast'],
    'chat.update': ['channel', 'ts', 'text'],
    'chat.delete': ['channel', 'ts'],
    'conversations.create': ['name', 'is_private'],
    'conversations.invite': ['channel', 'users'],
    'conversations.kick': ['channel', 'user'],
    'conversations.info': ['channel', 'include_num_members'],
    'conversations.list': ['types', 'exclude_archived', 'limit', 'cursor'],
    'conversations.members': ['channel', 'limit', 'cursor'],
    'conversations.history': ['channel', 'oldest', 'latest', 'inclusive', 'limit', 'cursor'],
    'conversations.replies': ['channel', 'ts', 'limit', 'cursor'],
    'conversations.mark': ['channel', 'ts'],
    'users.info': ['user'],
    'users.list': ['limit', 'cursor'],
  };
  const ODD_VALUES: unknown[] = [null, 1.5, -1, true, [], ['a'], { $gt: '' }, 2 ** 64, '9'.repeat(40), '\u0000', '😀', "'; --"];

  it.each(Object.entries(SWEEP))('%s: odd values in any argument never give a 500', async (method, args) => {
    const valid: Record<string, unknown> = { channel: w.channel, ts: w.ts, text: 'sweep', name: 'sweep', users: w.bob.id, user: w.bob.id };
    const base = Object.fromEntries(args.filter((a) => valid[a] !== undefined).map((a) => [a, valid[a]]));
    for (const arg of args) {
      const answers = await Promise.all(
        ODD_VALUES.map((value) => send({ path: `/api/${method}`, token: w.ada.token, json: { ...base, [arg]: value } })),
      );
      for (const res of answers) {
        expect(res.status).toBe(200);
        expect(typeof res.body.ok).toBe('boolean');
        if (!res.body.ok) expect(res.body.error).toMatch(/^[a-z_]+$/);
      }
    }
  });

  describe('limits at the edge', () => {
    it('accepts a text of exactly 40,000 characters', async () => {
      const exact = await api('chat.postMessage', w.ada.token, { channel: w.channel, text: longText(40_000) });
      expect(exact.body.ok).toBe(true);
      expect(exact.body.message.text).toHaveLength(40_000);
      const history = await api('conversations.history', w.ada.token, { channel: w.channel, limit: '1' });
      expect(history.body.messages[0].text).toHaveLength(40_000);
      const updated = await api('chat.update', w.ada.token, { channel: w.channel, ts: exact.body.ts, text: longText(39_999) + 'y' });
      expect(updated.body.ok).toBe(true);
    });

    it('counts characters, not UTF-16 units: 40,000 emoji fit, 40,001 do not', async () => {
      const fits = await api('chat.postMessage', w.ada.token, { channel: w.channel, text: '😀'.repeat(40_000) });
      expect(fits.body.ok).toBe(true);
      const { rows } = await t.pool.query('SELECT char_length(text) n FROM messages WHERE channel_id = $1 AND ts = $2', [
        w.channel,
        fits.body.ts.replace('.', ''),
      ]);
      expect(rows).toEqual([{ n: 40_000 }]);
      const over = await writesNothing(() => api('chat.postMessage', w.ada.token, { channel: w.channel, text: '😀'.repeat(40_001) }));
      expect(over.body).toEqual({ ok: false, error: 'msg_too_long' });
    });

    it('accepts a channel name of exactly 80 characters', async () => {
      const res = await api('conversations.create', w.ada.token, { name: 'b'.repeat(80) });
      expect(res.body).toMatchObject({ ok: true, channel: { name: 'b'.repeat(80) } });
    });
  });

  describe('the request itself', () => {
    const post = (extra: Partial<Request>) => send({ path: '/api/chat.postMessage', token: w.ada.token, ...extra });

    it.each([
      ['a truncated JSON body', '{"channel": "C1", "text": '],
      ['a JSON body that is not JSON at all', 'channel=C1&text=hi'],
      ['a JSON body poisoning __proto__', '{"__proto__": {"isAdmin": true}, "text": "hi"}'],
    ])('%s is invalid_json', async (_title, body) => {
      const res = await writesNothing(() => post({ body, contentType: 'application/json' }));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ok: false, error: 'invalid_json' });
    });

    it.each([
      ['text/plain', 'channel=C1&text=hi'],
      ['application/xml', '<message><text>hi</text></message>'],
      ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="text"\r\n\r\nhi\r\n--x--\r\n'],
    ])('a %s body is invalid_post_type', async (contentType, body) => {
      const res = await writesNothing(() => post({ body, contentType }));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ok: false, error: 'invalid_post_type' });
    });

    it('a body over BODY_LIMIT_BYTES is HTTP 413, in either encoding', async () => {
      const over = t.config.BODY_LIMIT_BYTES + 1;
      const json = JSON.stringify({ channel: w.channel, text: 'x'.repeat(over) });
      const form = `channel=${w.channel}&text=${'x'.repeat(over)}`;
      for (const [body, contentType] of [
        [json, 'application/json'],
        [form, 'application/x-www-form-urlencoded'],
      ]) {
        const res = await writesNothing(() => post({ body, contentType }));
        expect(res.status).toBe(413);
        expect(res.body).toEqual({ ok: false, error: 'request_too_large' });
      }
    });

    it.each([
      ['an unknown method', '/api/chat.frobnicate'],
      ['a method name with odd characters', '/api/..%2f..%2fetc%2fpasswd'],
      ['a method of another API', '/api/files.upload'],
    ])('%s is unknown_method, with or without a token', async (_title, path) => {
      for (const token of [w.ada.token, undefined]) {
        const res = await writesNothing(() => send({ path, token, form: { channel: w.channel, text: 'hi' } }));
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ ok: false, error: 'unknown_method' });
      }
    });

    it.each([
      ['no token at all', {}],
      ['an empty bearer token', { headers: 'Bearer ' }],
      ['an empty token argument', { token: '' }],
      ['a Basic authorization header', { headers: 'Basic YWRhOnNlY3JldA==' }],
    ])('%s is not_authed', async (_title, how: { headers?: string; token?: string }) => {
      const res = await writesNothing(async () => {
        const r = await fetch(`${t.url}/api/chat.postMessage`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...(how.headers ? { authorization: how.headers } : {}) },
          body: new URLSearchParams({ channel: w.channel, text: 'hi', ...(how.token !== undefined ? { token: how.token } : {}) }),
        });
        return { status: r.status, body: await r.json() };
      });
      expect(res).toEqual({ status: 200, body: { ok: false, error: 'not_authed' } });
    });

    it.each([
      ['a token of the wrong shape', 'xoxb-123'],
      ['an unknown token of the right shape', 'xoxp-000000000000-00000000000000000000000000000000'],
      ['a known token id with the wrong secret', 'WRONG_SECRET'],
      ['a token with a trailing NUL', 'NUL'],
    ])('%s is invalid_auth', async (_title, token) => {
      const real = w.ada.token;
      const given = token === 'WRONG_SECRET' ? `${real.slice(0, 18)}${'A'.repeat(32)}` : token === 'NUL' ? `${real}\u0000` : token;
      const requests: Partial<Request>[] = [{ token: undefined, form: { channel: w.channel, text: 'hi', token: given } }];
      // fetch refuses a NUL in a header value, so that one travels only as an argument.
      if (!given.includes('\u0000')) requests.push({ token: given, form: { channel: w.channel, text: 'hi' } });
      for (const req of requests) {
        const res = await writesNothing(() => post(req));
        expect(res.body).toEqual({ ok: false, error: 'invalid_auth' });
      }
    });

    it('takes the bearer scheme in any case', async () => {
      for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
        const res = await fetch(`${t.url}/api/auth.test`, { method: 'POST', headers: { authorization: `${scheme} ${w.ada.token}` } });
        expect(await res.json()).toMatchObject({ ok: true, user_id: w.ada.id });
        const admin = await fetch(`${t.url}/admin/v1/workspaces/${w.ada.workspace}`, {
          headers: { authorization: `${scheme} ${OPERATOR_TOKEN}` },
        });
        expect(admin.status).toBe(200);
      }
    });

    it('takes the token as a form field, a query argument or a JSON field', async () => {
      const token = w.ada.token;
      const viaForm = await send({ path: '/api/auth.test', form: { token } });
      const viaQuery = await send({ path: '/api/auth.test', httpMethod: 'GET', query: { token } });
      const viaJson = await send({ path: '/api/auth.test', json: { token } });
      for (const res of [viaForm, viaQuery, viaJson]) expect(res.body).toMatchObject({ ok: true, user_id: w.ada.id });

      const posted = await send({ path: '/api/chat.postMessage', query: { token, channel: w.channel, text: 'via query' } });
      expect(posted.body).toMatchObject({ ok: true, message: { text: 'via query' } });
      const json = await send({ path: '/api/chat.postMessage', json: { token, channel: w.channel, text: 'via json' } });
      expect(json.body).toMatchObject({ ok: true, message: { text: 'via json' } });
    });

    it.each([
      ['a number', 42],
      ['an object', { $ne: '' }],
      ['an array', ['C1']],
      ['null', null],
      ['a boolean', true],
    ])('a JSON channel that is %s is channel_not_found, and a JSON text that is one is no_text', async (_title, value) => {
      const res = await writesNothing(() => post({ json: { channel: value, text: 'hi' } }));
      expect(res.body).toEqual({ ok: false, error: 'channel_not_found' });
      const text = await writesNothing(() => post({ json: { channel: w.channel, text: value } }));
      expect(text.body).toEqual({ ok: false, error: 'no_text' });
    });

    it.each([
      ['an array', '[1, 2, 3]'],
      ['a string', '"hello"'],
      ['null', 'null'],
      ['a number', '42'],
    ])('a JSON body that is %s is json_not_object', async (_title, body) => {
      const res = await writesNothing(() => post({ body, contentType: 'application/json' }));
      expect(res.body).toEqual({ ok: false, error: 'json_not_object' });
    });

    it('a GET carrying a content type but no body is fine', async () => {
      const res = await send({ path: '/api/auth.test', httpMethod: 'GET', token: w.ada.token, contentType: 'application/json' });
      expect(res.body).toMatchObject({ ok: true, user_id: w.ada.id });
    });

    it('a body without a content type is missing_post_type', async () => {
      const res = await writesNothing(async () => {
        // fetch labels a string body text/plain; a byte body goes out with no content type at all.
        const r = await fetch(`${t.url}/api/chat.postMessage`, {
          method: 'POST',
          headers: { authorization: `Bearer ${w.ada.token}` },
          body: new TextEncoder().encode(`channel=${w.channel}&text=hi`),
        });
        return { status: r.status, body: await r.json() };
      });
      expect(res).toEqual({ status: 200, body: { ok: false, error: 'missing_post_type' } });
    });
  });

  describe('the admin API', () => {
    const admin = (method: 'GET' | 'POST', path: string, extra: Partial<Request> = {}) =>
      send({ path: `/admin/v1${path}`, httpMethod: method, token: OPERATOR_TOKEN, ...extra });

    it.each([
      ['an unknown role', { name: 'carol', role: 'god' }],
      ['no role', { name: 'carol' }],
      ['an upper-case name', { name: 'Carol', role: 'member' }],
      ['a name with a space', { name: 'carol c', role: 'member' }],
      ['an empty name', { name: '', role: 'member' }],
      ['no name', { role: 'member' }],
      ['a name of 81 characters', { name: 'c'.repeat(81), role: 'member' }],
      ['a numeric name', { name: 42, role: 'member' }],
      ['a real_name that is not a string', { name: 'carol', role: 'member', real_name: ['C'] }],
      ['a real_name of 201 characters', { name: 'carol', role: 'member', real_name: 'C'.repeat(201) }],
      ['a real_name with a NUL', { name: 'carol', role: 'member', real_name: 'Carol\u0000' }],
      ['an unexpected field', { name: 'carol', role: 'member', is_owner: true }],
    ])('creating a user with %s is 400 and writes nothing', async (_title, json) => {
      const res = await writesNothing(() => admin('POST', `/workspaces/${w.ada.workspace}/users`, { json }));
      expect(res.status).toBe(400);
    });

    it('creating a user with a taken name is 409; in an unknown workspace 404', async () => {
      const taken = await writesNothing(() =>
        admin('POST', `/workspaces/${w.ada.workspace}/users`, { json: { name: 'ada', role: 'member' } }),
      );
      expect(taken.status).toBe(409);
      const unknown = await writesNothing(() =>
        admin('POST', '/workspaces/T0000000000/users', { json: { name: 'carol', role: 'member' } }),
      );
      expect(unknown.status).toBe(404);
    });

    it.each([
      ['malformed JSON', { body: '{"name": ', contentType: 'application/json' }],
      ['an empty name', { json: { name: '' } }],
      ['a name of 101 characters', { json: { name: 'W'.repeat(101) } }],
      ['a name with a NUL', { json: { name: 'Acme\u0000' } }],
      ['no body', {}],
    ])('creating a workspace with %s is 400 and writes nothing', async (_title, extra: Partial<Request>) => {
      const res = await writesNothing(() => admin('POST', '/workspaces', extra));
      expect(res.status).toBe(400);
    });

    it.each([
      ['limit=abc', { limit: 'abc' }],
      ['limit=0', { limit: '0' }],
      ['limit=1001', { limit: '1001' }],
      ['an unknown parameter', { sort: 'name' }],
    ])('listing users with %s is 400', async (_title, query) => {
      expect((await admin('GET', `/workspaces/${w.ada.workspace}/users`, { query })).status).toBe(400);
    });

    it('odd workspace ids are 404 (or 400 for a NUL, 414 when too long), not errors', async () => {
      for (const id of ['T0000000000', 'x'.repeat(90), "T1'--", '%E2%9C%93']) {
        expect({ id, status: (await admin('GET', `/workspaces/${id}`)).status }).toEqual({ id, status: 404 });
      }
      expect((await admin('GET', '/workspaces/%00')).status).toBe(400);
      expect((await admin('GET', `/workspaces/${'x'.repeat(500)}`)).status).toBe(414);
      const users = await writesNothing(() => admin('POST', '/workspaces/T%00/users', { json: { name: 'carol', role: 'member' } }));
      expect(users.status).toBe(400);
      expect((await admin('GET', `/workspaces/${w.ada.workspace}/users`, { query: { after: 'U\u0000' } })).status).toBe(400);
    });

    it('an oversized body is 413', async () => {
      const res = await writesNothing(() => admin('POST', '/workspaces', { json: { name: 'x'.repeat(t.config.BODY_LIMIT_BYTES) } }));
      expect(res.status).toBe(413);
    });
  });
});
