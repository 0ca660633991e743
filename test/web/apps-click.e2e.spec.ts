import { jest } from '@jest/globals';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { type BoltApp, httpBolt, installApp, type InstalledApp, startBolt } from '../support/apps.js';
import { freePort } from '../support/free-port.js';
import type { TestApp, TestUser } from '../support/test-app.js';
import { type CuttableProxy, launchBrowser, openChannel, SCREENSHOTS, signedIn, startWebApp, type Person } from './support.js';

// The whole loop as a person lives it: an unmodified Bolt app posts a button, the person clicks it in
// Chromium, Bolt's own signature check accepts the block_actions payload, its app.action handler runs
// and respond({ replace_original }) replaces the message on the person's screen, live.
jest.setTimeout(120_000);

describe('web client: a click on a Bolt app button', () => {
  let t: TestApp;
  let base: string;
  let proxy: CuttableProxy;
  let browser: Browser;
  let ada: TestUser;
  let installed: InstalledApp;
  let boltApp: BoltApp;
  let channel: string;
  let A: Person;
  const clicks: { user: string; value?: string }[] = [];

  beforeAll(async () => {
    ({ t, base, proxy } = await startWebApp({ APPS_ALLOW_LOOPBACK: 'true' }));
    const ws = await t.newWorkspace('Acme');
    ada = await t.newUser(ws, 'member', 'ada');
    const port = await freePort();
    installed = await installApp(t, ws, { name: 'Approver', interactivity_url: `http://127.0.0.1:${port}/slack/events` });
    boltApp = httpBolt(t, installed);
    boltApp.action('approve', async ({ ack, body, action, respond }) => {
      await ack();
      clicks.push({ user: body.user.id, value: (action as { value?: string }).value });
      await respond({ replace_original: true, text: 'Approved' });
    });
    await startBolt(boltApp, port);
    channel = await t.newChannel(ada, 'deploys', false, [installed.bot]);
    browser = await launchBrowser();
    A = await signedIn(browser, t, base, ada);
  });

  afterAll(async () => {
    await browser?.close();
    await boltApp?.stop();
    await t?.close();
    await proxy?.close();
  });

  it("Bolt's app.action handler gets the click and respond() replaces the message live", async () => {
    await openChannel(A.page, channel);
    const posted = await boltApp.client.chat.postMessage({
      channel,
      text: 'Deploy 42 to production?',
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: '*Deploy 42* to production?' } },
        {
          type: 'actions',
          block_id: 'decide',
          elements: [
            { type: 'button', text: { type: 'plain_text', text: 'Approve' }, action_id: 'approve', value: 'deploy-42', style: 'primary' },
          ],
        },
      ],
    });
    expect(posted.ok).toBe(true);
    const row = A.page.locator(`[data-testid=message][data-ts="${posted.ts}"]`);
    await row.getByRole('button', { name: 'Approve' }).waitFor();
    // Shown as the app: its name and the APP badge.
    // (the bot user's name arrives with users.info, after the row)
    await row
      .locator('.author')
      .filter({ hasText: /^Approver$/ })
      .waitFor();
    expect(await row.locator('.app-badge').innerText()).toBe('APP');
    await A.page.screenshot({ path: join(SCREENSHOTS, 'apps-click-before.png') });
    await row.getByRole('button', { name: 'Approve' }).click();
    // Replaced in place: same ts, the blocks gone, the new text shown.
    await row.locator('.mrkdwn').filter({ hasText: 'Approved' }).waitFor({ timeout: 20_000 });
    expect(await row.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    expect(await row.innerText()).not.toContain('Deploy 42');
    expect(clicks).toEqual([{ user: ada.id, value: 'deploy-42' }]);
    expect(await A.page.locator('[data-testid=messages] [data-testid=message]').count()).toBe(1);
    await A.page.screenshot({ path: join(SCREENSHOTS, 'apps-click-approved.png') });
  });
});
