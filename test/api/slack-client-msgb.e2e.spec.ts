import { ErrorCode, WebClient } from '@slack/web-api';
import { TestApp, type TestUser } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

// The official client against the profile, presence, boot and scheduled-message methods.
describe('@slack/web-api WebClient: profiles, presence, client.boot, scheduled messages', () => {
  let t: TestApp;
  let ada: TestUser;
  let client: WebClient;

  beforeAll(async () => {
    t = await TestApp.start();
    const ws = await t.newWorkspace();
    const res = await t.admin('POST', `/workspaces/${ws}/users`, { name: 'ada', role: 'member', email: 'ada@example.com' });
    ada = { id: res.body.user.id, token: res.body.token, workspace: ws };
    client = new WebClient(ada.token, { slackApiUrl: `${t.url}/api/`, retryConfig: { retries: 0 } });
  });
  afterAll(() => t.close());

  it('users.profile.set/get, users.lookupByEmail, users.setPresence/getPresence', async () => {
    const set = await client.users.profile.set({ profile: { status_text: 'in a meeting', status_emoji: ':calendar:' } as never });
    expect(set.profile).toMatchObject({ status_text: 'in a meeting', status_emoji: ':calendar:' });
    const got = await client.users.profile.get({});
    expect(got.profile).toMatchObject({ status_text: 'in a meeting', email: 'ada@example.com' });
    const found = await client.users.lookupByEmail({ email: 'ada@example.com' });
    expect(found.user).toMatchObject({ id: ada.id });
    await expect(client.users.lookupByEmail({ email: 'nobody@example.com' })).rejects.toMatchObject({
      code: ErrorCode.PlatformError,
      data: { error: 'users_not_found' },
    });
    await client.users.setPresence({ presence: 'away' });
    expect(await client.users.getPresence({})).toMatchObject({ presence: 'away', manual_away: true });
  });

  it('chat.scheduleMessage, chat.scheduledMessages.list, chat.deleteScheduledMessage; client.boot', async () => {
    const channel = (await client.conversations.create({ name: 'client-sched' })).channel!.id!;
    const postAt = Math.floor(Date.now() / 1000) + 1;
    const scheduled = await client.chat.scheduleMessage({ channel, text: 'soon', post_at: postAt });
    const keep = await client.chat.scheduleMessage({ channel, text: 'much later', post_at: postAt + 3600 });
    const list = await client.chat.scheduledMessages.list({ channel });
    expect(list.scheduled_messages!.map((m) => m.id)).toEqual([scheduled.scheduled_message_id, keep.scheduled_message_id]);
    await client.chat.deleteScheduledMessage({ channel, scheduled_message_id: keep.scheduled_message_id! });
    await waitFor(async () => (await client.conversations.history({ channel })).messages!.some((m) => m.text === 'soon'), 20_000, 'posted');
    const boot = await client.apiCall('client.boot');
    expect(boot).toMatchObject({
      ok: true,
      self: { id: ada.id },
      channels: [expect.objectContaining({ id: channel, name: 'client-sched' })],
    });
  });
});
