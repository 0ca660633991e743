import { jest } from '@jest/globals';
import type { Browser } from 'playwright-core';
import type { TestApp, TestUser } from '../support/test-app.js';
import { type CuttableProxy, connected, launchBrowser, newTab, signInLink, startWebApp } from './support.js';

// Signing in as a person: a link works once; a session that ends sends its open tabs to sign-in.
// A browser, a server and Chromium's start-up share two cores with the rest of the suite.
jest.setTimeout(120_000);

describe('web client: sign-in', () => {
  let t: TestApp;
  let base: string;
  let proxy: CuttableProxy;
  let browser: Browser;
  let ada: TestUser;

  beforeAll(async () => {
    ({ t, base, proxy } = await startWebApp());
    ada = await t.newUser(await t.newWorkspace('Acme'), 'member', 'ada');
    await t.newChannel(ada, 'general');
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await proxy?.close();
  });

  it('exchanges a sign-in link once; the same link then shows the sign-in screen', async () => {
    const link = await signInLink(t, ada);
    const first = await browser.newContext();
    const page = await first.newPage();
    await page.goto(`${base}/signin${link}`);
    await connected(page);
    await page.getByRole('heading', { name: 'Acme' }).waitFor();
    // The code is gone from the address bar, and the session cookie is out of the page's reach.
    expect(new URL(page.url()).hash).toBe('');
    expect(await page.evaluate(() => document.cookie)).not.toContain('atomcast_session');

    const second = await browser.newContext();
    const again = await second.newPage();
    await again.goto(`${base}/signin${link}`);
    await again.getByTestId('signin').getByRole('alert').waitFor();
    expect(await again.getByTestId('connection').count()).toBe(0);
    await first.close();
    await second.close();
  });

  it('sends an open tab to sign-in when its session is signed out elsewhere (revoked socket)', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/signin${await signInLink(t, ada)}`);
    await connected(page);
    const other = await newTab({ context, page, dialogs: [] }, `${base}/`);
    await other.getByRole('button', { name: 'Sign out' }).click();
    await page.getByTestId('signin').waitFor({ timeout: 5000 });
    await other.getByTestId('signin').waitFor();
    // The session is gone for the API too.
    const res = await page.evaluate(async () => (await fetch('/auth/session')).status);
    expect(res).toBe(401);
    await context.close();
  });

  it('sends the open tab of a user an admin deactivates to sign-in', async () => {
    const bob = await t.newUser(ada.workspace, 'member', 'bob');
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/signin${await signInLink(t, bob)}`);
    await connected(page);
    const res = await t.admin('POST', `/workspaces/${bob.workspace}/users/${bob.id}/deactivate`);
    expect(res.status).toBeLessThan(300);
    await page.getByTestId('signin').waitFor({ timeout: 5000 });
    await context.close();
  });
});
