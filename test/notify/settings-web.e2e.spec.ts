import { jest } from '@jest/globals';
import type { Browser } from 'playwright-core';
import webpush from 'web-push';
import type { TestApp, TestUser } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';
import { type CuttableProxy, launchBrowser, openChannel, SCREENSHOTS, signedIn, startWebApp, type Person } from '../web/support.js';

// Issue 13: the web client's notification settings screen, in Chromium against the real server.
jest.setTimeout(120_000);

describe('web client: notification settings', () => {
  let t: TestApp;
  let base: string;
  let proxy: CuttableProxy;
  let browser: Browser;
  let ada: TestUser;
  let general: string;
  let A: Person;

  beforeAll(async () => {
    const vapid = webpush.generateVAPIDKeys();
    ({ t, base, proxy } = await startWebApp({ VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey }));
    const ws = await t.newWorkspace('Acme');
    ada = await t.newUser(ws, 'member', 'ada');
    general = await t.newChannel(ada, 'general');
    browser = await launchBrowser();
    A = await signedIn(browser, t, base, ada);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await proxy?.close();
  });

  const prefs = async () => (await t.api('users.prefs.get', ada.token)).body.prefs as Record<string, unknown>;

  it('sets the workspace level, and the open channel level and mute, as the API then reports', async () => {
    const page = A.page;
    await openChannel(page, general);
    await page.getByRole('button', { name: 'Notifications' }).click();
    const dialog = page.getByRole('dialog', { name: 'Notifications' });
    await dialog.waitFor();
    // The browser can take notifications; nothing is subscribed yet.
    await waitFor(async () => (await dialog.getByTestId('push-state').innerText()) === 'Off for this browser.', 20_000, 'the push state');

    await dialog.getByLabel('Workspace notification level').selectOption('all');
    await waitFor(async () => (await prefs()).notify === 'all', 20_000, 'the workspace level saved');
    await dialog.getByLabel('Mute #general').check();
    await waitFor(
      async () => JSON.stringify((await prefs()).channels) === JSON.stringify([{ channel: general, notify: null, muted: true }]),
      20_000,
      'the mute saved',
    );
    await dialog.getByLabel('Channel notification level').selectOption('nothing');
    await waitFor(
      async () => JSON.stringify((await prefs()).channels) === JSON.stringify([{ channel: general, notify: 'nothing', muted: true }]),
      20_000,
      'the channel level saved',
    );
    await page.screenshot({ path: `${SCREENSHOTS}/notify-settings.png` });

    // Reopened, the screen shows what is stored.
    await dialog.getByRole('button', { name: 'Close' }).click();
    await page.getByRole('button', { name: 'Notifications' }).click();
    await waitFor(async () => (await dialog.getByLabel('Mute #general').isChecked()) === true, 20_000, 'the stored mute shown');
    expect(await dialog.getByLabel('Workspace notification level').inputValue()).toBe('all');
    expect(await dialog.getByLabel('Channel notification level').inputValue()).toBe('nothing');
  });

  it('the service worker installs from /sw.js under the server CSP', async () => {
    const state = await A.page.evaluate(async () => {
      const reg = await navigator.serviceWorker.register('/sw.js', { scope: '/' });
      await navigator.serviceWorker.ready;
      return (reg.active ?? reg.waiting ?? reg.installing)?.scriptURL;
    });
    expect(state).toBe(`${base}/sw.js`);
  });
});
