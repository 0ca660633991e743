import { IncomingWebhook } from '@slack/webhook';
import { TestApp, type TestUser } from '../support/test-app.js';
import { history, installApp, type InstalledApp } from '../support/apps.js';

// Incoming webhooks: the secret URL is the credential; @slack/webhook posts through it as the app.

describe('incoming webhooks', () => {
  let t: TestApp;
  let workspace: string;
  let ada: TestUser;
  let installed: InstalledApp;
  let channel: string;

  beforeAll(async () => {
    t = await TestApp.start();
    workspace = await t.newWorkspace();
    ada = await t.newUser(workspace, 'member', 'ada');
    installed = await installApp(t, workspace, { name: 'CI' });
    channel = await t.newChannel(ada, 'deploys');
  });
  afterAll(() => t.close());

  it('@slack/webhook posts into the channel as the app; a revoked URL gets 404', async () => {
    const created = await t.admin('POST', `/workspaces/${workspace}/apps/${installed.id}/webhooks`, { channel });
    expect(created.status).toBe(201);
    expect(created.body.url).toMatch(new RegExp(`^${t.url}/services/${workspace}/B[0-9A-Z]{10}/[A-Za-z0-9_-]+$`));

    const hook = new IncomingWebhook(created.body.url);
    expect(await hook.send({ text: 'build 42 passed' })).toEqual({ text: 'ok' });
    const posted = (await history(t, ada, channel)).filter((m) => m.user === installed.botUserId);
    expect(posted.map((m) => m.text)).toEqual(['build 42 passed']);
    // As the app, with its bot identity; name and icon overrides are ignored (Slack's rule for app webhooks).
    expect(posted[0]).toMatchObject({ bot_id: installed.botId, bot_profile: { id: installed.botId } });
    expect(await hook.send({ text: 'renamed?', username: 'Impostor', icon_emoji: ':ghost:' })).toEqual({ text: 'ok' });
    const renamed = (await history(t, ada, channel)).find((m) => m.text === 'renamed?')!;
    expect(renamed).toMatchObject({ bot_id: installed.botId });
    expect(renamed).not.toHaveProperty('username');
    expect(renamed).not.toHaveProperty('icons');

    // A payload without text is refused and writes nothing; a mistyped secret is an unknown URL.
    const before = await t.tableCounts();
    const empty = await fetch(created.body.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect([empty.status, await empty.text()]).toEqual([400, 'no_text']);
    const wrong = await fetch(
      created.body.url.replace(/.$/, (c: string) => (c === 'a' ? 'b' : 'a')),
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'x' }),
      },
    );
    expect([wrong.status, await wrong.text()]).toEqual([404, 'no_service']);
    expect(await t.tableCounts()).toEqual(before);

    const revoked = await t.admin('POST', `/workspaces/${workspace}/apps/${installed.id}/webhooks/${created.body.id}/revoke`);
    expect(revoked.status).toBe(200);
    await expect(hook.send({ text: 'after revoke' })).rejects.toThrow('statusCode = 404');
    expect((await history(t, ada, channel)).filter((m) => m.user === installed.botUserId)).toHaveLength(2);
  });

  it("refuses a private channel the app's bot was not invited to", async () => {
    const secret = await t.newChannel(ada, 'secret', true);
    const res = await t.admin('POST', `/workspaces/${workspace}/apps/${installed.id}/webhooks`, { channel: secret });
    expect(res.status).toBe(400);
  });
});
