import { WebClient } from '@slack/web-api';
import { TestClient, waitFor } from '../realtime/support.js';
import { TestApp, type TestUser } from '../support/test-app.js';

// Issue 10 items 2-4 and issue 14 item 4: reactions, pins, channel settings (rename, topic,
// purpose, unarchive), the archive rule, and channel names accepted where Slack takes a channel.

describe('reactions, pins and channel settings', () => {
  let t: TestApp;
  let ws: string;
  let owner: TestUser;
  let member: TestUser;
  let admin: TestUser;
  let outsider: TestUser;

  beforeAll(async () => {
    t = await TestApp.start();
    ws = await t.newWorkspace();
    [owner, member, admin, outsider] = await Promise.all([t.newUser(ws), t.newUser(ws), t.newUser(ws, 'admin'), t.newUser(ws)]);
  });
  afterAll(() => t.close());

  const post = async (user: TestUser, channel: string, text = 'hi') => {
    const res = await t.api('chat.postMessage', user.token, { channel, text });
    expect(res.body.ok).toBe(true);
    return res.body.ts as string;
  };

  describe('archive and unarchive (creator or workspace admin)', () => {
    it('refuses a member who did not create the channel, and writes nothing', async () => {
      const channel = await t.newChannel(owner, 'arch-member', false, [member]);
      const before = await t.tableCounts();
      expect((await t.api('conversations.archive', member.token, { channel })).body).toEqual({ ok: false, error: 'restricted_action' });
      expect(await t.tableCounts()).toEqual(before);
    });

    it('lets a workspace admin archive and unarchive; unarchive adds them back and is refused to members', async () => {
      const channel = await t.newChannel(owner, 'arch-admin', false, [member]);
      expect((await t.api('conversations.archive', admin.token, { channel })).body.ok).toBe(true);
      expect((await t.api('conversations.archive', admin.token, { channel })).body.error).toBe('already_archived');
      expect((await t.api('conversations.unarchive', member.token, { channel })).body.error).toBe('restricted_action');
      const res = await t.api('conversations.unarchive', admin.token, { channel });
      expect(res.body).toEqual({ ok: true });
      expect((await t.api('conversations.unarchive', admin.token, { channel })).body.error).toBe('not_archived');
      const info = await t.api('conversations.info', admin.token, { channel });
      expect(info.body.channel).toMatchObject({ is_archived: false, is_member: true });
      expect((await t.api('chat.postMessage', member.token, { channel, text: 'back' })).body.ok).toBe(true);
    });

    it('lets the creator archive and unarchive their channel', async () => {
      const channel = await t.newChannel(owner, 'arch-owner');
      expect((await t.api('conversations.archive', owner.token, { channel })).body.ok).toBe(true);
      expect((await t.api('conversations.unarchive', owner.token, { channel })).body.ok).toBe(true);
    });
  });

  describe('rename, topic, purpose', () => {
    it('applies Slack name rules and errors', async () => {
      const channel = await t.newChannel(owner, 'to-rename', false, [member]);
      await t.newChannel(owner, 'taken');
      const rename = (user: TestUser, name: string) => t.api('conversations.rename', user.token, { channel, name });
      expect((await rename(owner, 'Has Caps')).body.error).toBe('invalid_name_specials');
      expect((await rename(owner, '---')).body.error).toBe('invalid_name_punctuation');
      expect((await rename(owner, 'x'.repeat(81))).body.error).toBe('invalid_name_maxlength');
      expect((await rename(owner, 'taken')).body.error).toBe('name_taken');
      expect((await rename(member, 'mine-now')).body.error).toBe('not_authorized');
      expect((await rename(outsider, 'mine-now')).body.error).toBe('not_in_channel');
      const ok = await rename(owner, 'renamed');
      expect(ok.body.channel).toMatchObject({ id: channel, name: 'renamed', name_normalized: 'renamed' });
      const topic = await t.api('conversations.setTopic', member.token, { channel, topic: 'launch' });
      expect(topic.body.channel.topic).toMatchObject({ value: 'launch', creator: member.id });
      expect(topic.body.channel.topic.last_set).toBeGreaterThan(0);
      expect((await t.api('conversations.setTopic', member.token, { channel, topic: 'x'.repeat(251) })).body.error).toBe('too_long');
      expect((await t.api('conversations.setPurpose', outsider.token, { channel, purpose: 'nope' })).body.error).toBe('not_in_channel');
    });

    it('accepts #name and name wherever a channel is taken, one resolver for every method', async () => {
      const channel = await t.newChannel(owner, 'by-name', false, [member]);
      const posted = await t.api('chat.postMessage', member.token, { channel: '#by-name', text: 'via name' });
      expect(posted.body).toMatchObject({ ok: true, channel });
      const history = await t.api('conversations.history', member.token, { channel: 'by-name' });
      expect(history.body.messages.map((m: { text: string }) => m.text)).toEqual(['via name']);
      expect((await t.api('reactions.add', owner.token, { channel: '#by-name', timestamp: posted.body.ts, name: 'tada' })).body.ok).toBe(
        true,
      );
      // A private channel's name tells an outsider nothing more than its id would.
      await t.newChannel(owner, 'hidden', true);
      expect((await t.api('conversations.history', outsider.token, { channel: '#hidden' })).body.error).toBe('channel_not_found');
      expect((await t.api('conversations.history', outsider.token, { channel: '#no-such' })).body.error).toBe('channel_not_found');
    });
  });

  describe('reactions', () => {
    it('20 concurrent adds of one emoji by one user make one reaction; the rest are already_reacted', async () => {
      const channel = await t.newChannel(owner, 'react-race');
      const ts = await post(owner, channel);
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => t.api('reactions.add', owner.token, { channel, timestamp: ts, name: 'thumbsup' })),
      );
      expect(answers.filter((a) => a.body.ok)).toHaveLength(1);
      expect(answers.filter((a) => !a.body.ok).map((a) => a.body.error)).toEqual(Array(19).fill('already_reacted'));
      const { rows } = await t.pool.query("SELECT type FROM events WHERE channel_id = $1 AND type LIKE 'reaction%'", [channel]);
      expect(rows).toHaveLength(1);
    });

    it('counts 20 concurrent reactors, removes one, and shows Slack’s shape in history, replies and reactions.get', async () => {
      const channel = await t.newChannel(owner, 'react-many');
      const users = await Promise.all(Array.from({ length: 20 }, () => t.newUser(ws)));
      await Promise.all(users.map((u) => t.api('conversations.join', u.token, { channel })));
      const ts = await post(owner, channel, 'hot');
      const answers = await Promise.all(users.map((u) => t.api('reactions.add', u.token, { channel, timestamp: ts, name: ':+1:' })));
      expect(answers.every((a) => a.body.ok)).toBe(true);
      await t.api('reactions.add', owner.token, { channel, timestamp: ts, name: 'wave::skin-tone-3' });
      expect((await t.api('reactions.remove', users[0].token, { channel, timestamp: ts, name: 'thumbsup' })).body).toEqual({ ok: true });
      expect((await t.api('reactions.remove', users[0].token, { channel, timestamp: ts, name: 'thumbsup' })).body.error).toBe(
        'no_reaction',
      );

      const history = await t.api('conversations.history', owner.token, { channel });
      const reactions = history.body.messages[0].reactions;
      // Slack's documented shape: [{name, users, count}], one entry per emoji, aliases under the canonical name.
      expect(reactions.map((r: { name: string; count: number }) => [r.name, r.count])).toEqual([
        ['+1', 19],
        ['wave::skin-tone-3', 1],
      ]);
      expect(new Set(reactions[0].users)).toEqual(new Set(users.slice(1).map((u) => u.id)));
      const got = await t.api('reactions.get', owner.token, { channel, timestamp: ts });
      expect(got.body).toMatchObject({ ok: true, type: 'message', channel, message: { ts, text: 'hot', reactions } });
      const replies = await t.api('conversations.replies', owner.token, { channel, ts });
      expect(replies.body.messages[0].reactions).toEqual(reactions);
      const listed = await t.api('reactions.list', users[1].token, {});
      expect(listed.body.items).toEqual([{ type: 'message', channel, message: got.body.message }]);
    });

    it('answers Slack’s errors and writes nothing for them', async () => {
      const channel = await t.newChannel(owner, 'react-errors');
      const ts = await post(owner, channel);
      const before = await t.tableCounts();
      const add = (user: TestUser, args: Record<string, string>) => t.api('reactions.add', user.token, { channel, timestamp: ts, ...args });
      expect((await add(owner, { name: 'not-an-emoji' })).body.error).toBe('invalid_name');
      expect((await add(owner, { name: 'wave::skin-tone-9' })).body.error).toBe('invalid_name');
      expect((await add(owner, { name: 'tada', timestamp: '1.000001' })).body.error).toBe('message_not_found');
      expect((await add(outsider, { name: 'tada' })).body.error).toBe('not_in_channel');
      expect(await t.tableCounts()).toEqual(before);
    });

    it('refuses a 51st distinct emoji on one message with too_many_reactions', async () => {
      const channel = await t.newChannel(owner, 'react-full');
      const ts = await post(owner, channel);
      const { default: names } = (await import('emoji-datasource/emoji.json', { with: { type: 'json' } })) as {
        default: Array<{ short_name: string }>;
      };
      const fifty = names.slice(0, 51).map((e) => e.short_name);
      for (const name of fifty.slice(0, 50)) {
        expect((await t.api('reactions.add', owner.token, { channel, timestamp: ts, name })).body.ok).toBe(true);
      }
      expect((await t.api('reactions.add', member.token, { channel, timestamp: ts, name: fifty[50] })).body.error).toBe('not_in_channel');
      expect((await t.api('reactions.add', owner.token, { channel, timestamp: ts, name: fifty[50] })).body.error).toBe(
        'too_many_reactions',
      );
      // One more person on an emoji the message has already is fine.
      await t.api('conversations.join', member.token, { channel });
      expect((await t.api('reactions.add', member.token, { channel, timestamp: ts, name: fifty[0] })).body.ok).toBe(true);
    });

    it('documents the custom emoji admin routes in the OpenAPI document', async () => {
      const doc = (await (await fetch(`${t.url}/admin/docs-json`)).json()) as { paths: Record<string, Record<string, unknown>> };
      expect(Object.keys(doc.paths['/admin/v1/workspaces/{workspace}/emoji/{name}']).sort()).toEqual(['delete', 'put']);
      expect(Object.keys(doc.paths['/admin/v1/workspaces/{workspace}/emoji'])).toEqual(['get']);
    });

    it('takes a workspace’s custom emoji once an admin added it over the admin API', async () => {
      const channel = await t.newChannel(owner, 'react-custom');
      const ts = await post(owner, channel);
      expect((await t.api('reactions.add', owner.token, { channel, timestamp: ts, name: 'partyparrot' })).body.error).toBe('invalid_name');
      const url = 'https://emoji.example.com/parrot.gif';
      expect((await t.admin('PUT', `/workspaces/${ws}/emoji/partyparrot`, { url }, member.token)).status).toBe(403);
      expect((await t.admin('PUT', `/workspaces/${ws}/emoji/smile`, { url }, admin.token)).status).toBe(400);
      expect((await t.admin('PUT', `/workspaces/${ws}/emoji/partyparrot`, { url: 'javascript:x' }, admin.token)).status).toBe(400);
      expect((await t.admin('PUT', `/workspaces/${ws}/emoji/partyparrot`, { url }, admin.token)).status).toBe(200);
      expect((await t.admin('PUT', `/workspaces/${ws}/emoji/partyparrot`, { url }, admin.token)).status).toBe(409);
      expect((await t.api('emoji.list', member.token)).body.emoji).toEqual({ partyparrot: url });
      expect((await t.api('reactions.add', owner.token, { channel, timestamp: ts, name: 'partyparrot' })).body.ok).toBe(true);
      expect((await t.admin('DELETE', `/workspaces/${ws}/emoji/partyparrot`, undefined, admin.token)).status).toBe(204);
      expect((await t.api('emoji.list', member.token)).body.emoji).toEqual({});
    });

    it('never bumps unread counts', async () => {
      const channel = await t.newChannel(owner, 'react-unread', false, [member]);
      const ts = await post(owner, channel);
      const counts = async () =>
        ((await t.api('client.counts', member.token)).body.channels as Array<{ id: string; unread_count: number }>).find(
          (c) => c.id === channel,
        );
      await waitFor(async () => (await counts())?.unread_count === 1);
      await t.api('reactions.add', owner.token, { channel, timestamp: ts, name: 'eyes' });
      await post(owner, channel, 'second'); // the projector has read past the reaction once this one counts
      await waitFor(async () => (await counts())?.unread_count === 2);
    });
  });

  describe('pins', () => {
    it('pins and unpins with Slack’s errors; pinned_to and pin_count show in history', async () => {
      const channel = await t.newChannel(owner, 'pins', false, [member]);
      const ts = await post(owner, channel, 'pin me');
      await post(owner, channel, 'not pinned');
      expect((await t.api('pins.add', outsider.token, { channel, timestamp: ts })).body.error).toBe('not_in_channel');
      expect((await t.api('pins.add', member.token, { channel, timestamp: '1.000001' })).body.error).toBe('message_not_found');
      expect((await t.api('pins.add', member.token, { channel, timestamp: ts })).body).toEqual({ ok: true });
      expect((await t.api('pins.add', member.token, { channel, timestamp: ts })).body.error).toBe('already_pinned');
      const history = await t.api('conversations.history', owner.token, { channel });
      expect(history.body.pin_count).toBe(1);
      expect(history.body.messages.map((m: { pinned_to?: string[] }) => m.pinned_to)).toEqual([undefined, [channel]]);
      const list = await t.api('pins.list', owner.token, { channel });
      expect(list.body.items).toEqual([
        {
          type: 'message',
          created: expect.any(Number),
          created_by: member.id,
          channel,
          message: expect.objectContaining({ ts, pinned_to: [channel] }),
        },
      ]);
      expect((await t.api('pins.remove', owner.token, { channel, timestamp: ts })).body).toEqual({ ok: true });
      expect((await t.api('pins.remove', owner.token, { channel, timestamp: ts })).body.error).toBe('no_pin');
      expect((await t.api('conversations.history', owner.token, { channel })).body.pin_count).toBe(0);
    });
  });

  it('sends pins, reactions, topic, purpose, rename, archive and unarchive events in order on a socket', async () => {
    const channel = await t.newChannel(owner, 'evented', false, [member]);
    const client = await new TestClient(member, t.url).connect();
    try {
      const slack = new WebClient(owner.token, { slackApiUrl: `${t.url}/api/`, retryConfig: { retries: 0 } });
      const { ts } = await slack.chat.postMessage({ channel, text: 'watch' });
      await slack.reactions.add({ channel, timestamp: ts!, name: 'eyes' });
      await slack.pins.add({ channel, timestamp: ts! });
      await slack.conversations.setTopic({ channel, topic: 'the topic' });
      await slack.conversations.setPurpose({ channel, purpose: 'the purpose' });
      await slack.conversations.rename({ channel, name: 'evented-2' });
      await slack.pins.remove({ channel, timestamp: ts! });
      await slack.reactions.remove({ channel, timestamp: ts!, name: 'eyes' });
      await slack.conversations.archive({ channel });
      await slack.conversations.unarchive({ channel });
      await waitFor(() => client.events.some((e) => e.channel === channel && e.type === 'channel_unarchive'));
      const seen = client.events.filter((e) => e.channel === channel);
      expect(seen.map((e) => e.seq)).toEqual(seen.map((_, i) => seen[0].seq + i));
      const item = { type: 'message', channel, ts };
      expect(seen.map(({ seq: _seq, ts: _ts, channel: _c, ...rest }) => rest)).toEqual([
        { type: 'message', user: owner.id, text: 'watch' },
        { type: 'reaction_added', user: owner.id, reaction: 'eyes', item, item_user: owner.id },
        { type: 'pin_added', user: owner.id, channel_id: channel, item },
        { type: 'channel_topic', user: owner.id, topic: 'the topic' },
        { type: 'channel_purpose', user: owner.id, purpose: 'the purpose' },
        { type: 'channel_rename', user: owner.id, name: 'evented-2' },
        { type: 'pin_removed', user: owner.id, channel_id: channel, item },
        { type: 'reaction_removed', user: owner.id, reaction: 'eyes', item, item_user: owner.id },
        { type: 'channel_archive', user: owner.id },
        { type: 'channel_unarchive', user: owner.id },
      ]);
    } finally {
      client.disconnect();
    }
  });
});
