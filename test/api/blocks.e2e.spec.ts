import { randomBytes } from 'node:crypto';
import { TestApp, type TestUser } from '../support/test-app.js';
import { TestClient, waitFor } from '../realtime/support.js';

// Block Kit and legacy attachments on chat.postMessage / chat.update: stored as sent, returned the
// same through history, replies, socket events and edits; checked against Block Kit before anything
// is written; sealed with the text under EKM.

const BLOCKS = [
  { type: 'header', text: { type: 'plain_text', text: 'Deploy #42 :rocket:', emoji: true } },
  {
    type: 'section',
    block_id: 'summary',
    text: { type: 'mrkdwn', text: '*api* is going to _production_' },
    accessory: { type: 'image', image_url: 'https://example.com/a.png', alt_text: 'avatar' },
  },
  {
    type: 'section',
    fields: [
      { type: 'mrkdwn', text: '*Version*\nv1.2.3' },
      { type: 'plain_text', text: 'By ada' },
    ],
  },
  { type: 'divider' },
  { type: 'image', image_url: 'https://example.com/graph.png', alt_text: 'latency graph', title: { type: 'plain_text', text: 'p99' } },
  { type: 'context', elements: [{ type: 'mrkdwn', text: 'ref `abc123`' }] },
  {
    type: 'actions',
    block_id: 'decide',
    elements: [
      { type: 'button', text: { type: 'plain_text', text: 'Approve' }, action_id: 'approve', value: 'v42', style: 'primary' },
      { type: 'button', text: { type: 'plain_text', text: 'Reject' }, action_id: 'reject', style: 'danger' },
    ],
  },
  {
    type: 'rich_text',
    elements: [
      {
        type: 'rich_text_section',
        elements: [
          { type: 'text', text: 'Hello ', style: { bold: true } },
          { type: 'user', user_id: 'U123' },
          { type: 'link', url: 'https://example.com', text: 'docs' },
        ],
      },
      { type: 'rich_text_list', style: 'bullet', elements: [{ type: 'rich_text_section', elements: [{ type: 'text', text: 'one' }] }] },
    ],
  },
];

const ATTACHMENTS = [
  {
    fallback: 'Build passed',
    color: '#36a64f',
    pretext: 'CI',
    title: 'Build 981',
    title_link: 'https://ci.example.com/981',
    text: 'All 412 tests passed',
    fields: [
      { title: 'Branch', value: 'main', short: true },
      { title: 'Time', value: '3m 2s', short: true },
    ],
    footer: 'ci-bot',
  },
];

describe('Block Kit on chat.postMessage and chat.update', () => {
  let t: TestApp;
  let ada: TestUser;
  let bob: TestUser;
  let channel: string;
  let watcher: TestClient;

  /** A JSON body, as @slack/web-api and Bolt send blocks from most apps. */
  async function json(method: string, token: string, body: Record<string, unknown>) {
    const res = await fetch(`${t.url}/api/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    return (await res.json()) as Record<string, any>;
  }

  beforeAll(async () => {
    t = await TestApp.start({ EKM_LOCAL_MASTER_KEY: randomBytes(32).toString('base64') });
    const ws = await t.newWorkspace();
    ada = await t.newUser(ws);
    bob = await t.newUser(ws);
    channel = await t.newChannel(ada, 'deploys', false, [bob]);
    watcher = await new TestClient(bob, t.url).connect();
  });
  afterAll(async () => {
    watcher.disconnect();
    await t.close();
  });

  const history = async () => (await t.api('conversations.history', ada.token, { channel })).body.messages as Array<Record<string, any>>;
  const eventFor = async (type: string, match: (e: Record<string, any>) => boolean) => {
    await waitFor(() => watcher.events.some((e) => e.channel === channel && e.type === type && match(e)), 10_000, `${type} event`);
    return watcher.events.find((e) => e.channel === channel && e.type === type && match(e)) as Record<string, any>;
  };

  it('blocks and attachments round-trip through the answer, history, a socket event and replies', async () => {
    const posted = await json('chat.postMessage', ada.token, { channel, text: 'Deploy #42', blocks: BLOCKS, attachments: ATTACHMENTS });
    expect(posted).toMatchObject({ ok: true, message: { text: 'Deploy #42', blocks: BLOCKS, attachments: ATTACHMENTS } });

    const [top] = await history();
    expect(top).toMatchObject({ ts: posted.ts, text: 'Deploy #42' });
    expect(top.blocks).toEqual(BLOCKS);
    expect(top.attachments).toEqual(ATTACHMENTS);

    const event = await eventFor('message', (e) => e.ts === posted.ts);
    expect(event.blocks).toEqual(BLOCKS);
    expect(event.attachments).toEqual(ATTACHMENTS);

    // Form-encoded, blocks as a JSON string (what @slack/web-api sends for form posts), in a thread.
    const reply = await t.api('chat.postMessage', bob.token, {
      channel,
      thread_ts: posted.ts,
      blocks: JSON.stringify([BLOCKS[1]]),
    });
    expect(reply.body).toMatchObject({ ok: true, message: { text: '', blocks: [BLOCKS[1]] } });
    const replies = await t.api('conversations.replies', ada.token, { channel, ts: posted.ts });
    expect(replies.body.messages.map((m: Record<string, any>) => m.blocks)).toEqual([BLOCKS, [BLOCKS[1]]]);
  });

  it('attachments alone are a message (no text needed); an empty one is not', async () => {
    const posted = await json('chat.postMessage', ada.token, { channel, attachments: ATTACHMENTS });
    expect(posted).toMatchObject({ ok: true, message: { text: '', attachments: ATTACHMENTS } });
    expect((await history())[0]).toMatchObject({ ts: posted.ts, text: '', attachments: ATTACHMENTS });
    expect(posted.message.blocks).toBeUndefined();

    const before = await t.tableCounts();
    expect(await json('chat.postMessage', ada.token, { channel, attachments: [{ color: 'good' }] })).toEqual({
      ok: false,
      error: 'no_text',
    });
    expect(await json('chat.postMessage', ada.token, { channel, blocks: [] })).toEqual({ ok: false, error: 'no_text' });
    expect(await json('chat.postMessage', ada.token, { channel })).toEqual({ ok: false, error: 'no_text' });
    expect(await t.tableCounts()).toEqual(before);
  });

  it('chat.update replaces blocks, keeps those it is not given, and [] removes them; message_changed carries them', async () => {
    const posted = await json('chat.postMessage', ada.token, { channel, text: 'v1', blocks: [BLOCKS[0]], attachments: ATTACHMENTS });
    const newBlocks = [BLOCKS[1], BLOCKS[6]];
    const edited = await json('chat.update', ada.token, { channel, ts: posted.ts, text: 'v2', blocks: newBlocks });
    expect(edited).toMatchObject({ ok: true, text: 'v2', message: { text: 'v2', blocks: newBlocks, attachments: ATTACHMENTS } });
    const changed = await eventFor('message_changed', (e) => e.message?.ts === posted.ts && e.message?.text === 'v2');
    expect(changed.message.blocks).toEqual(newBlocks);
    expect(changed.message.attachments).toEqual(ATTACHMENTS);

    // Text only: blocks and attachments stay (Slack's rule for chat.update).
    const textOnly = await t.api('chat.update', ada.token, { channel, ts: posted.ts, text: 'v3' });
    expect(textOnly.body.message).toMatchObject({ text: 'v3', blocks: newBlocks, attachments: ATTACHMENTS });

    // Blocks only: the text goes (blocks carry the message now).
    const blocksOnly = await json('chat.update', ada.token, { channel, ts: posted.ts, blocks: [BLOCKS[3], BLOCKS[1]], attachments: [] });
    expect(blocksOnly.message).toMatchObject({ text: '', blocks: [BLOCKS[3], BLOCKS[1]] });
    expect(blocksOnly.message.attachments).toBeUndefined();

    const cleared = await json('chat.update', ada.token, { channel, ts: posted.ts, text: 'plain again', blocks: [] });
    expect(cleared.message.blocks).toBeUndefined();
    const row = (await history()).find((m) => m.ts === posted.ts)!;
    expect(row).toMatchObject({ text: 'plain again' });
    expect(row.blocks).toBeUndefined();
    // Nothing left to show: refused, and the message is as it was.
    expect(await json('chat.update', ada.token, { channel, ts: posted.ts, text: '', blocks: [] })).toEqual({ ok: false, error: 'no_text' });
    expect((await history()).find((m) => m.ts === posted.ts)).toEqual(row);
  });

  it('malformed blocks get invalid_blocks with the JSON pointer of the first error, and nothing is written', async () => {
    const button = (text: string) => ({ type: 'button', text: { type: 'plain_text', text }, action_id: 'a' });
    const cases: Array<[unknown, string, string]> = [
      [[{ type: 'section' }], 'invalid_blocks', 'must provide text or fields [json-pointer:/blocks/0]'],
      [[BLOCKS[0], { type: 'carousel' }], 'invalid_blocks', 'unsupported block type: carousel [json-pointer:/blocks/1/type]'],
      [
        [{ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(3001) } }],
        'invalid_blocks',
        'must be less than 3001 characters [json-pointer:/blocks/0/text/text]',
      ],
      [
        [{ type: 'header', text: { type: 'mrkdwn', text: 'hi' } }],
        'invalid_blocks',
        'must be one of: plain_text [json-pointer:/blocks/0/text/type]',
      ],
      [
        [{ type: 'actions', elements: [button('ok'), button('y'.repeat(76))] }],
        'invalid_blocks',
        'must be less than 76 characters [json-pointer:/blocks/0/elements/1/text/text]',
      ],
      [
        [
          { type: 'divider', block_id: 'a' },
          { type: 'divider', block_id: 'a' },
        ],
        'invalid_blocks',
        'duplicate block_id: a [json-pointer:/blocks/1/block_id]',
      ],
      [Array.from({ length: 51 }, () => ({ type: 'divider' })), 'invalid_blocks', 'no more than 50 items allowed [json-pointer:/blocks]'],
      [
        [{ type: 'section', fields: Array.from({ length: 11 }, () => ({ type: 'plain_text', text: 'f' })) }],
        'invalid_blocks',
        'no more than 10 items allowed [json-pointer:/blocks/0/fields]',
      ],
      [
        [{ type: 'image', image_url: 'https://example.com/x.png' }],
        'invalid_blocks',
        'missing required field: alt_text [json-pointer:/blocks/0]',
      ],
      [
        [{ type: 'section', text: { type: 'mrkdwn', text: '' } }],
        'invalid_blocks',
        'must be more than 0 characters [json-pointer:/blocks/0/text/text]',
      ],
    ];
    const before = await t.tableCounts();
    for (const [blocks, error, line] of cases) {
      const answer = await json('chat.postMessage', ada.token, { channel, text: 'fallback', blocks });
      expect(answer).toEqual({ ok: false, error, errors: [line], response_metadata: { messages: [`[ERROR] ${line}`] } });
    }
    expect((await t.api('chat.postMessage', ada.token, { channel, text: 'x', blocks: '[{not json' })).body).toEqual({
      ok: false,
      error: 'invalid_blocks_format',
    });
    expect((await json('chat.postMessage', ada.token, { channel, text: 'x', blocks: { type: 'divider' } })).error).toBe(
      'invalid_blocks_format',
    );
    const badAttachment = await json('chat.postMessage', ada.token, {
      channel,
      attachments: [{ title: 'x', fields: [{ title: 't', value: 5 }] }],
    });
    expect(badAttachment).toMatchObject({
      ok: false,
      error: 'invalid_attachments',
      errors: ['must be a string [json-pointer:/attachments/0/fields/0/value]'],
    });
    // An edit with bad blocks leaves the message as it was.
    const posted = await json('chat.postMessage', ada.token, { channel, text: 'keep me', blocks: [BLOCKS[0]] });
    const afterPost = await t.tableCounts();
    expect((await json('chat.update', ada.token, { channel, ts: posted.ts, blocks: [{ type: 'section' }] })).error).toBe('invalid_blocks');
    expect(await t.tableCounts()).toEqual(afterPost);
    expect((await history()).find((m) => m.ts === posted.ts)).toMatchObject({ text: 'keep me', blocks: [BLOCKS[0]] });
    expect(afterPost.events).toBe(before.events + 1);
  });

  it('EKM: no block or attachment text is stored in clear in any table, and it all reads back', async () => {
    const ws = await t.newWorkspace('Sealed');
    const cy = await t.newUser(ws);
    expect((await t.admin('POST', `/workspaces/${ws}/ekm`, { provider: 'local' })).status).toBe(202);
    const sealedChannel = await t.newChannel(cy, 'sealed');
    const secret = `zebra${randomBytes(6).toString('hex')}`;
    const blocks = [
      { type: 'section', text: { type: 'mrkdwn', text: `block ${secret}` } },
      { type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: `btn ${secret}` }, value: secret }] },
    ];
    const attachments = [{ fallback: `fb ${secret}`, title: `title ${secret}`, fields: [{ title: 'f', value: secret }] }];
    const posted = await json('chat.postMessage', cy.token, { channel: sealedChannel, text: 'sealed', blocks, attachments });
    expect(posted.ok).toBe(true);
    const edited = await json('chat.update', cy.token, {
      channel: sealedChannel,
      ts: posted.ts,
      text: 'sealed 2',
      blocks: [...blocks].reverse(),
    });
    expect(edited.ok).toBe(true);
    const reply = await json('chat.postMessage', cy.token, { channel: sealedChannel, thread_ts: posted.ts, attachments });
    expect(reply.ok).toBe(true);

    expect(await t.tablesHolding(secret)).toEqual([]);

    const { body } = await t.api('conversations.history', cy.token, { channel: sealedChannel });
    expect(body.messages[0]).toMatchObject({ ts: posted.ts, text: 'sealed 2', blocks: [...blocks].reverse(), attachments });
    const replies = await t.api('conversations.replies', cy.token, { channel: sealedChannel, ts: posted.ts });
    expect(replies.body.messages[1]).toMatchObject({ text: '', attachments });
  });

  it('EKM turned on later seals the blocks of messages posted before it', async () => {
    const ws = await t.newWorkspace('Later');
    const di = await t.newUser(ws);
    const ch = await t.newChannel(di, 'later');
    const secret = `okapi${randomBytes(6).toString('hex')}`;
    const blocks = [{ type: 'section', text: { type: 'plain_text', text: secret } }];
    const posted = await json('chat.postMessage', di.token, { channel: ch, text: 'before EKM', blocks });
    const { rows: clear } = await t.pool.query('SELECT rich FROM messages WHERE channel_id = $1', [ch]);
    expect(clear).toEqual([{ rich: { blocks } }]);
    expect((await t.admin('POST', `/workspaces/${ws}/ekm`, { provider: 'local' })).status).toBe(202);
    await waitFor(
      async () => {
        const { rows } = await t.pool.query('SELECT rich, text, body_enc IS NOT NULL AS sealed FROM messages WHERE channel_id = $1', [ch]);
        return rows.length === 1 && rows[0].sealed && rows[0].rich === null && rows[0].text === null;
      },
      20_000,
      'the EKM run to seal the message',
    );
    const { body } = await t.api('conversations.history', di.token, { channel: ch });
    expect(body.messages[0]).toMatchObject({ ts: posted.ts, text: 'before EKM', blocks });
  });
});
