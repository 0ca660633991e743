import { randomBytes } from 'node:crypto';
import { TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';
import { ScheduledMessagesService, scheduledClientMsgId } from '../../src/api/chat/scheduled-messages.service.js';

const inSeconds = (s: number) => Math.floor(Date.now() / 1000) + s;

describe('scheduled messages', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await TestApp.start({ EKM_LOCAL_MASTER_KEY: randomBytes(32).toString('base64') });
  });
  afterAll(async () => {
    await t.close();
  });

  const rowOf = async (id: string) =>
    (await t.pool.query('SELECT state, error, posted_ts FROM scheduled_messages WHERE id = $1', [id])).rows[0] as {
      state: string;
      error: string | null;
      posted_ts: string | null;
    };

  it('posts once, at its time, as the author; listed until then; a repeated delivery posts nothing new', async () => {
    const ws = await t.newWorkspace();
    const [ada, bob] = [await t.newUser(ws), await t.newUser(ws)];
    const channel = await t.newChannel(ada, 'sched-post', false, [bob]);
    const postAt = inSeconds(2);
    const res = await t.api('chat.scheduleMessage', ada.token, { channel, text: 'good morning', post_at: postAt });
    expect(res.body).toMatchObject({
      ok: true,
      channel,
      post_at: postAt,
      message: { type: 'message', user: ada.id, text: 'good morning' },
    });
    const id = res.body.scheduled_message_id as string;
    const listed = await t.api('chat.scheduledMessages.list', ada.token, { channel });
    expect(listed.body.scheduled_messages).toEqual([
      expect.objectContaining({ id, channel_id: channel, post_at: postAt, text: 'good morning', state: 'pending' }),
    ]);
    expect((await t.api('chat.scheduledMessages.list', bob.token)).body.scheduled_messages).toEqual([]);
    await waitFor(async () => (await rowOf(id)).state === 'posted', 20_000, 'posted');
    const history = await t.api('conversations.history', bob.token, { channel });
    const posted = history.body.messages.filter((m: { text: string }) => m.text === 'good morning');
    expect(posted).toEqual([expect.objectContaining({ user: ada.id, client_msg_id: scheduledClientMsgId(id) })]);
    expect(Number(posted[0].ts)).toBeGreaterThanOrEqual(postAt);
    // The job again (a retry after a crash, a re-dispatch): nothing new.
    const service = t.app.get(ScheduledMessagesService);
    await t.pool.query(`UPDATE scheduled_messages SET state = 'pending' WHERE id = $1`, [id]);
    expect(await service.deliver(id)).toBe('posted');
    const again = await t.api('conversations.history', bob.token, { channel });
    expect(again.body.messages.filter((m: { text: string }) => m.text === 'good morning')).toHaveLength(1);
    expect((await t.api('chat.scheduledMessages.list', ada.token)).body.scheduled_messages).toEqual([]);
  });

  it('fails with not_in_channel when the author left meanwhile: recorded on the row and shown in the list', async () => {
    const ws = await t.newWorkspace();
    const [ada, bob] = [await t.newUser(ws), await t.newUser(ws)];
    const channel = await t.newChannel(bob, 'sched-left', false, [ada]);
    const res = await t.api('chat.scheduleMessage', ada.token, { channel, text: 'later', post_at: inSeconds(2) });
    const id = res.body.scheduled_message_id as string;
    expect((await t.api('conversations.leave', ada.token, { channel })).body.ok).toBe(true);
    await waitFor(async () => (await rowOf(id)).state === 'failed', 20_000, 'failed');
    expect(await rowOf(id)).toEqual({ state: 'failed', error: 'not_in_channel', posted_ts: null });
    const listed = await t.api('chat.scheduledMessages.list', ada.token);
    expect(listed.body.scheduled_messages).toEqual([expect.objectContaining({ id, state: 'failed', error: 'not_in_channel' })]);
    const history = await t.api('conversations.history', bob.token, { channel });
    expect(history.body.messages.some((m: { text: string }) => m.text === 'later')).toBe(false);
  });

  it('fails with channel_not_found when the author was removed from a private channel', async () => {
    const ws = await t.newWorkspace();
    const [ada, bob] = [await t.newUser(ws), await t.newUser(ws)];
    const channel = await t.newChannel(bob, 'sched-private', true, [ada]);
    const id = (await t.api('chat.scheduleMessage', ada.token, { channel, text: 'x', post_at: inSeconds(2) })).body.scheduled_message_id;
    expect((await t.api('conversations.kick', bob.token, { channel, user: ada.id })).body.ok).toBe(true);
    await waitFor(async () => (await rowOf(id)).state === 'failed', 20_000, 'failed');
    expect((await rowOf(id)).error).toBe('channel_not_found');
  });

  it('chat.deleteScheduledMessage: the author only, once; a deleted message is never posted', async () => {
    const ws = await t.newWorkspace();
    const [ada, bob] = [await t.newUser(ws), await t.newUser(ws)];
    const channel = await t.newChannel(ada, 'sched-delete', false, [bob]);
    const id = (await t.api('chat.scheduleMessage', ada.token, { channel, text: 'never', post_at: inSeconds(1) })).body
      .scheduled_message_id as string;
    const del = (who: typeof ada, args: Record<string, string>) => t.api('chat.deleteScheduledMessage', who.token, args);
    expect((await del(bob, { channel, scheduled_message_id: id })).body).toEqual({ ok: false, error: 'invalid_scheduled_message_id' });
    expect((await del(ada, { channel: 'CNOPE', scheduled_message_id: id })).body).toEqual({
      ok: false,
      error: 'invalid_scheduled_message_id',
    });
    expect((await del(ada, { channel, scheduled_message_id: id })).body).toEqual({ ok: true });
    expect((await del(ada, { channel, scheduled_message_id: id })).body).toEqual({ ok: false, error: 'invalid_scheduled_message_id' });
    expect(await t.app.get(ScheduledMessagesService).deliver(id)).toBe('deleted');
    expect((await rowOf(id)).state).toBe('deleted');
    const history = await t.api('conversations.history', ada.token, { channel });
    expect(history.body.messages.some((m: { text: string }) => m.text === 'never')).toBe(false);
  });

  it('refuses bad input with Slack codes and writes nothing', async () => {
    const ws = await t.newWorkspace();
    const [ada, eve] = [await t.newUser(ws), await t.newUser(ws)];
    const channel = await t.newChannel(ada, 'sched-bad');
    const secret = await t.newChannel(ada, 'sched-secret', true);
    const count = async () => (await t.pool.query('SELECT count(*)::int n FROM scheduled_messages')).rows[0].n as number;
    const before = await count();
    const cases: Array<[typeof ada, Record<string, string | number>, string]> = [
      [ada, { channel, text: 'x', post_at: inSeconds(-5) }, 'time_in_past'],
      [ada, { channel, text: 'x', post_at: inSeconds(121 * 24 * 3600) }, 'time_too_far'],
      [ada, { channel, text: 'x', post_at: 'soon' }, 'invalid_time'],
      [ada, { channel, text: 'x' }, 'invalid_time'],
      [ada, { channel, post_at: inSeconds(60) }, 'no_text'],
      [ada, { channel, text: 'x'.repeat(40_001), post_at: inSeconds(60) }, 'msg_too_long'],
      [ada, { channel: 'CNOPE', text: 'x', post_at: inSeconds(60) }, 'channel_not_found'],
      [eve, { channel, text: 'x', post_at: inSeconds(60) }, 'not_in_channel'],
      [eve, { channel: secret, text: 'x', post_at: inSeconds(60) }, 'channel_not_found'],
      [ada, { channel, text: 'x', post_at: inSeconds(60), thread_ts: 'nope' }, 'thread_not_found'],
    ];
    for (const [who, args, error] of cases) {
      const res = await t.api('chat.scheduleMessage', who.token, args);
      expect([error, res.status, res.body]).toEqual([error, 200, { ok: false, error }]);
    }
    expect((await t.api('chat.scheduleMessage', undefined, { channel, text: 'x', post_at: inSeconds(60) })).body.error).toBe('not_authed');
    expect((await t.api('chat.scheduledMessages.list', ada.token, { cursor: 'bad' })).body).toEqual({ ok: false, error: 'invalid_cursor' });
    expect(await count()).toBe(before);
  });

  it('is refused in an EKM workspace, where its text would wait in clear', async () => {
    const ws = await t.newWorkspace();
    const ada = await t.newUser(ws);
    const channel = await t.newChannel(ada, 'sched-ekm');
    expect((await t.admin('POST', `/workspaces/${ws}/ekm`, { provider: 'local' })).status).toBeLessThan(300);
    const res = await t.api('chat.scheduleMessage', ada.token, { channel, text: 'secret', post_at: inSeconds(60) });
    expect(res.body).toEqual({ ok: false, error: 'restricted_action' });
    expect((await t.pool.query('SELECT count(*)::int n FROM scheduled_messages WHERE workspace_id = $1', [ws])).rows[0].n).toBe(0);
  });

  it('pages the list by post_at', async () => {
    const ws = await t.newWorkspace();
    const ada = await t.newUser(ws);
    const channel = await t.newChannel(ada, 'sched-page');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(
        (await t.api('chat.scheduleMessage', ada.token, { channel, text: `m${i}`, post_at: inSeconds(3600 + i) })).body
          .scheduled_message_id,
      );
    }
    const seen: string[] = [];
    let cursor = '';
    do {
      const page = await t.api('chat.scheduledMessages.list', ada.token, { limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...page.body.scheduled_messages.map((m: { id: string }) => m.id));
      cursor = page.body.response_metadata.next_cursor;
    } while (cursor);
    expect(seen).toEqual(ids);
  });
});
