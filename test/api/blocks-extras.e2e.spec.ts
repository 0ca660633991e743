import { LogLevel, WebClient } from '@slack/web-api';
import { ephemeralsOf } from '../support/ephemerals.js';
import { OPERATOR_TOKEN, TestApp, type TestUser } from '../support/test-app.js';
import { TestClient, waitFor } from '../realtime/support.js';

// chat.postEphemeral (one user's sockets, never stored), chat.meMessage, chat.getPermalink, team.info.

describe('chat.postEphemeral, chat.meMessage, chat.getPermalink, team.info', () => {
  let t: TestApp;
  let ada: TestUser;
  let bob: TestUser;
  let cy: TestUser;
  let channel: string;

  beforeAll(async () => {
    t = await TestApp.start({ PUBLIC_URL: 'https://chat.example.com' });
    const ws = await t.newWorkspace('Acme');
    ada = await t.newUser(ws);
    bob = await t.newUser(ws);
    cy = await t.newUser(ws);
    channel = await t.newChannel(ada, 'general', false, [bob, cy]);
  });
  afterAll(() => t.close());

  it('an ephemeral message reaches only its user’s sockets (every one of them) and is in no history, log or replay', async () => {
    const clients = await Promise.all([ada, bob, bob, cy].map((u) => new TestClient(u, t.url).connect()));
    const [toAda, toBob1, toBob2, toCy] = clients.map(ephemeralsOf);
    try {
      const before = await t.tableCounts();
      const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: 'Only *you* can see this' } }];
      const sent = await t.api('chat.postEphemeral', ada.token, { channel, user: bob.id, text: 'psst', blocks: JSON.stringify(blocks) });
      expect(sent.body).toEqual({ ok: true, message_ts: expect.stringMatching(/^\d{10}\.\d{6}$/) });
      // Then one to ada and one to cy: the bus delivers in order, so once theirs arrived, bob's had
      // reached every node's sockets it was going to reach.
      await t.api('chat.postEphemeral', bob.token, { channel, user: ada.id, text: 'for ada' });
      await t.api('chat.postEphemeral', bob.token, { channel, user: cy.id, text: 'for cy' });
      await waitFor(() => toBob1.length + toBob2.length === 2 && toAda.length === 1 && toCy.length === 1, 10_000, 'ephemeral messages');
      for (const got of [toBob1, toBob2]) {
        expect(got).toEqual([
          {
            channel,
            message: { type: 'message', user: ada.id, text: 'psst', ts: sent.body.message_ts, blocks, is_ephemeral: true },
          },
        ]);
      }
      expect(toAda.map((e) => e.message.text)).toEqual(['for ada']);
      expect(toCy.map((e) => e.message.text)).toEqual(['for cy']);
      // No channel event came with them, nothing was stored, history and replay do not know them.
      expect(clients.flatMap((c) => c.events).filter((e) => e.channel === channel)).toEqual([]);
      expect(await t.tableCounts()).toEqual(before);
      const history = await t.api('conversations.history', bob.token, { channel });
      expect(history.body.messages.map((m: Record<string, any>) => m.text)).not.toEqual(expect.arrayContaining(['psst']));
      const replay = await fetch(`${t.url}/admin/v1/channels/${channel}/events?after_seq=0`, {
        headers: { authorization: `Bearer ${OPERATOR_TOKEN}` },
      });
      expect(replay.status).toBe(200);
      expect(await replay.text()).not.toContain('psst');
    } finally {
      for (const c of clients) c.disconnect();
    }
  });

  it('chat.postEphemeral refuses a user outside the channel, a caller outside it, bad blocks and no content', async () => {
    const ws = ada.workspace;
    const outsider = await t.newUser(ws);
    const priv = await t.newChannel(ada, 'private-one', true);
    const calls: Array<[TestUser, Record<string, string>, Record<string, unknown>]> = [
      [ada, { channel, user: outsider.id, text: 'x' }, { ok: false, error: 'user_not_in_channel' }],
      [ada, { channel, user: 'UNOBODY', text: 'x' }, { ok: false, error: 'user_not_found' }],
      [outsider, { channel: priv, user: ada.id, text: 'x' }, { ok: false, error: 'channel_not_found' }],
      [outsider, { channel, user: ada.id, text: 'x' }, { ok: false, error: 'not_in_channel' }],
      [ada, { channel, user: bob.id }, { ok: false, error: 'no_text' }],
      [ada, { channel, user: bob.id, blocks: '[{"type":"section"}]' }, expect.objectContaining({ ok: false, error: 'invalid_blocks' })],
    ];
    for (const [caller, args, answer] of calls) expect((await t.api('chat.postEphemeral', caller.token, args)).body).toEqual(answer);
  });

  it('chat.meMessage posts a me_message, shown as such in history and the socket event', async () => {
    const watcher = await new TestClient(bob, t.url).connect();
    try {
      const me = await t.api('chat.meMessage', ada.token, { channel, text: 'waves' });
      expect(me.body).toEqual({ ok: true, channel, ts: expect.stringMatching(/^\d{10}\.\d{6}$/) });
      const history = await t.api('conversations.history', bob.token, { channel, limit: 1 });
      expect(history.body.messages[0]).toMatchObject({
        type: 'message',
        subtype: 'me_message',
        user: ada.id,
        text: 'waves',
        ts: me.body.ts,
      });
      await waitFor(() => watcher.events.some((e) => e.ts === me.body.ts), 10_000, 'the me_message event');
      expect(watcher.events.find((e) => e.ts === me.body.ts)).toMatchObject({ type: 'message', subtype: 'me_message', text: 'waves' });
      // An edit keeps it a me_message.
      const edited = await t.api('chat.update', ada.token, { channel, ts: me.body.ts, text: 'waves twice' });
      expect(edited.body.message).toMatchObject({ subtype: 'me_message', text: 'waves twice' });
      expect((await t.api('chat.meMessage', ada.token, { channel })).body).toEqual({ ok: false, error: 'no_text' });
    } finally {
      watcher.disconnect();
    }
  });

  it('chat.getPermalink gives the web client’s address of a message (and of a reply, with its thread)', async () => {
    const parent = await t.api('chat.postMessage', ada.token, { channel, text: 'link me' });
    const reply = await t.api('chat.postMessage', bob.token, { channel, text: 'reply', thread_ts: parent.body.ts });
    const link = await t.api('chat.getPermalink', cy.token, { channel, message_ts: parent.body.ts });
    expect(link.body).toEqual({
      ok: true,
      channel,
      permalink: `https://chat.example.com/archives/${channel}/p${parent.body.ts.replace('.', '')}`,
    });
    const replyLink = await t.api('chat.getPermalink', cy.token, { channel, message_ts: reply.body.ts });
    expect(replyLink.body.permalink).toBe(
      `https://chat.example.com/archives/${channel}/p${reply.body.ts.replace('.', '')}?thread_ts=${parent.body.ts}&cid=${channel}`,
    );
    expect((await t.api('chat.getPermalink', cy.token, { channel, message_ts: '1700000000.000001' })).body).toEqual({
      ok: false,
      error: 'message_not_found',
    });
    const priv = await t.newChannel(ada, 'secret-room', true);
    const hidden = await t.api('chat.postMessage', ada.token, { channel: priv, text: 'hidden' });
    expect((await t.api('chat.getPermalink', cy.token, { channel: priv, message_ts: hidden.body.ts })).body).toEqual({
      ok: false,
      error: 'channel_not_found',
    });
  });

  it('@slack/web-api, unchanged, posts blocks and attachments (form-encoded JSON) and calls the other methods', async () => {
    // The client logs a refusal's response_metadata.messages (as it does Slack's); the test reads them itself.
    const quiet = { debug() {}, info() {}, warn() {}, error() {}, setLevel() {}, getLevel: () => LogLevel.ERROR, setName() {} };
    const slack = new WebClient(ada.token, { slackApiUrl: `${t.url}/api/`, retryConfig: { retries: 0 }, logger: quiet });
    const blocks = [
      { type: 'section', text: { type: 'mrkdwn', text: '*Alert* disk 91%' } },
      { type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Ack' }, action_id: 'ack', value: 'disk' }] },
    ];
    const attachments = [{ color: 'danger', title: 'db-1', fields: [{ title: 'Disk', value: '91%', short: true }] }];
    const posted = await slack.chat.postMessage({ channel, text: 'Alert: disk 91%', blocks, attachments });
    expect(posted).toMatchObject({ ok: true, message: { text: 'Alert: disk 91%', blocks, attachments } });
    const history = await slack.conversations.history({ channel, limit: 1 });
    expect(history.messages?.[0]).toMatchObject({ ts: posted.ts, blocks, attachments });
    const updated = await slack.chat.update({ channel, ts: posted.ts!, text: 'Resolved', blocks: [blocks[0]] });
    expect(updated.message).toMatchObject({ text: 'Resolved', blocks: [blocks[0]], attachments });
    expect(await slack.chat.postEphemeral({ channel, user: bob.id, text: 'hint', blocks })).toMatchObject({ ok: true });
    expect(await slack.chat.meMessage({ channel, text: 'is on call' })).toMatchObject({ ok: true, channel });
    expect((await slack.chat.getPermalink({ channel, message_ts: posted.ts! })).permalink).toContain(`/archives/${channel}/p`);
    expect((await slack.team.info()).team).toMatchObject({ id: ada.workspace, name: 'Acme' });
    await expect(slack.chat.postMessage({ channel, text: 'x', blocks: [{ type: 'section' } as never] })).rejects.toMatchObject({
      data: { ok: false, error: 'invalid_blocks', errors: ['must provide text or fields [json-pointer:/blocks/0]'] },
    });
  });

  it('team.info describes the caller’s workspace', async () => {
    const info = await t.api('team.info', ada.token);
    expect(info.body).toMatchObject({
      ok: true,
      team: { id: ada.workspace, name: 'Acme', domain: 'chat.example.com', url: 'https://chat.example.com/' },
    });
    expect((await t.api('team.info', undefined)).body).toEqual({ ok: false, error: 'not_authed' });
  });
});
