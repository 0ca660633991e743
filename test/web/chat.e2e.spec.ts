import { jest } from '@jest/globals';
import AxeBuilder from '@axe-core/playwright';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { TestApp, TestUser } from '../support/test-app.js';
import {
  type CuttableProxy,
  launchBrowser,
  newTab,
  openChannel,
  SCREENSHOTS,
  shownTexts,
  signedIn,
  startWebApp,
  type Person,
} from './support.js';

// Two people in two browser contexts against the real server: what one does, the other sees live.
// A browser, a server and Chromium's start-up share two cores with the rest of the suite.
jest.setTimeout(120_000);

describe('web client: chat between two people', () => {
  let t: TestApp;
  let base: string;
  let proxy: CuttableProxy;
  let browser: Browser;
  let site: Server;
  let siteUrl: string;
  let ada: TestUser;
  let grace: TestUser;
  let general: string;
  let random: string;
  let A: Person;
  let G: Person;

  beforeAll(async () => {
    site = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        `<html><head><meta property="og:title" content="Local page ${req.url}"><meta property="og:site_name" content="Docs"></head></html>`,
      );
    });
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
    siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    ({ t, base, proxy } = await startWebApp({
      UNFURL_ALLOW_LOOPBACK: 'true',
      JOBS_DISPATCH_INTERVAL_MS: '50',
      PRESENCE_AWAY_DELAY_MS: '100',
    }));
    const ws = await t.newWorkspace('Acme');
    ada = await t.newUser(ws, 'member', 'ada');
    grace = await t.newUser(ws, 'member', 'grace');
    general = await t.newChannel(ada, 'general', false, [grace]);
    random = await t.newChannel(ada, 'random', false, [grace]);
    let last = '';
    for (let i = 1; i <= 30; i++)
      last = (await t.api('chat.postMessage', i % 2 ? ada.token : grace.token, { channel: general, text: `Earlier message ${i}` })).body.ts;
    // Both have read the history: the badge and divider checks below start from a known read state
    // (a page that switches channels within its mark delay would otherwise leave it unread).
    for (const u of [ada, grace]) await t.api('conversations.mark', u.token, { channel: general, ts: last });
    browser = await launchBrowser();
    A = await signedIn(browser, t, base, ada);
    G = await signedIn(browser, t, base, grace);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await proxy?.close();
    await new Promise((r) => site.close(r));
  });

  const message = (page: Page, text: string) => page.locator('[data-testid=messages] [data-testid=message]').filter({ hasText: text });
  const send = async (page: Page, label: string, text: string) => {
    await page.getByLabel(label, { exact: true }).fill(text);
    await page.getByLabel(label, { exact: true }).press('Enter');
  };
  const badge = (page: Page, channel: string) => page.locator(`[data-channel=${channel}] [data-testid=badge]`);

  it('shows a post live to the other person; the unread badge rises elsewhere and clears on both of their tabs', async () => {
    await openChannel(A.page, general);
    await openChannel(G.page, random);
    const g2 = await newTab(G, `${base}/c/${random}`);

    await send(A.page, 'Message #general', 'Hello *Grace*');
    await message(A.page, 'Hello Grace').waitFor();
    await badge(G.page, general).filter({ hasText: /^1$/ }).waitFor();
    await badge(g2, general).filter({ hasText: /^1$/ }).waitFor();

    await openChannel(G.page, general);
    await message(G.page, 'Hello Grace').waitFor();
    // Marked read on one tab, cleared on the other by the counts push.
    await badge(g2, general).waitFor({ state: 'detached' });
    expect(await badge(G.page, general).count()).toBe(0);
    // The new-messages divider sits right above what was unread.
    await G.page.getByRole('separator').filter({ hasText: 'New messages' }).waitFor();

    await send(A.page, 'Message #general', 'and again');
    await message(G.page, 'and again').waitFor();
    expect((await shownTexts(G.page)).slice(-2)).toEqual(['Hello Grace', 'and again']);
    await g2.close();
  });

  it('shows typing to the viewer only, and presence of people on screen turning away when they leave', async () => {
    // In #random (the first test typed in #general, and typing is throttled per user and channel).
    await openChannel(A.page, random);
    await openChannel(G.page, random);
    const elsewhere = await newTab(G, `${base}/c/${general}`);
    await A.page.getByLabel('Message #random', { exact: true }).pressSequentially('typing now');
    await G.page.getByTestId('typing').filter({ hasText: 'ada is typing…' }).waitFor();
    expect(await A.page.getByTestId('typing').innerText()).toBe('');
    expect(await elsewhere.getByTestId('typing').innerText()).toBe('');
    await elsewhere.close();
    await A.page.getByLabel('Message #random', { exact: true }).press('Enter');
    await openChannel(A.page, general);

    // Grace has messages on Ada's screen: her dot is active, and turns away once she is gone.
    const graceDot = message(A.page, 'Earlier message 30').locator('[data-presence]');
    await message(A.page, 'Earlier message 30').waitFor();
    await A.page.locator(`[data-testid=messages] [data-presence=active]`).first().waitFor();
    expect(await graceDot.getAttribute('data-presence')).toBe('active');
    await G.context.close();
    await message(A.page, 'Earlier message 30').locator('[data-presence=away]').waitFor();
    G = await signedIn(browser, t, base, grace);
  });

  it('shows a thread reply, an edit, a delete and an unfurl card live to the other person', async () => {
    await openChannel(A.page, general);
    await openChannel(G.page, general);
    await send(A.page, 'Message #general', `Start here ${siteUrl}/guide`);
    const parent = message(G.page, 'Start here');
    await parent.waitFor();
    // The unfurler fetched the local page; the card arrives as message_changed.
    await parent.getByTestId('unfurl').filter({ hasText: 'Local page /guide' }).waitFor({ timeout: 30_000 });

    await parent.hover();
    await parent.getByRole('button', { name: 'Reply in thread' }).click();
    await G.page.getByTestId('thread').waitFor();
    await send(G.page, 'Reply…', 'A reply from Grace');
    await G.page.getByTestId('thread').getByText('A reply from Grace').waitFor();
    await message(A.page, 'Start here').getByRole('button', { name: '1 reply' }).waitFor();
    await message(A.page, 'Start here').getByRole('button', { name: '1 reply' }).click();
    await A.page.getByTestId('thread').getByText('A reply from Grace').waitFor();
    // Also send to channel: the reply shows in the channel too.
    await G.page.getByLabel('Also send to channel').check();
    await send(G.page, 'Reply…', 'Broadcast reply');
    await message(A.page, 'Broadcast reply').waitFor();
    await A.page.getByTestId('thread').getByText('Broadcast reply').waitFor();

    const mine = message(A.page, 'Start here');
    await mine.hover();
    await mine.getByRole('button', { name: 'Edit' }).click();
    await A.page.getByLabel('Edit message').fill('Start here (edited text)');
    await A.page.getByLabel('Edit message').press('Enter');
    await message(G.page, 'Start here (edited text)').getByText('(edited)').waitFor();

    await send(A.page, 'Message #general', 'A message to delete');
    await message(G.page, 'A message to delete').waitFor();
    const doomed = message(A.page, 'A message to delete');
    await doomed.hover();
    await doomed.getByRole('button', { name: 'Delete' }).click();
    await doomed.getByRole('button', { name: 'Confirm delete' }).click();
    await message(G.page, 'A message to delete').waitFor({ state: 'detached' });
    await message(A.page, 'A message to delete').waitFor({ state: 'detached' });
  });

  it('renders script-looking text and javascript: links as text: nothing runs', async () => {
    await openChannel(A.page, general);
    await openChannel(G.page, general);
    await send(A.page, 'Message #general', '<img src=x onerror=alert(1)> and <javascript:alert(2)|click me>');
    await t.api('chat.postMessage', ada.token, {
      channel: general,
      text: 'raw <a href="javascript:alert(3)">x</a> <script>alert(4)</script> javascript:alert(5)',
    });
    for (const page of [A.page, G.page]) {
      await message(page, 'onerror=alert(1)').waitFor();
      await message(page, 'raw').waitFor();
      expect(await page.locator('[data-testid=messages] img').count()).toBe(0);
      expect(await page.locator('[data-testid=messages] script').count()).toBe(0);
      expect(await page.locator('[data-testid=messages] a[href^="javascript"]').count()).toBe(0);
      expect(await message(page, 'onerror').innerText()).toContain('<img src=x onerror=alert(1)>');
    }
    // Safe links are real links that open elsewhere without an opener.
    await send(A.page, 'Message #general', 'see <https://example.org/docs|the docs>');
    const link = message(G.page, 'see the docs').getByRole('link', { name: 'the docs' });
    expect(await link.getAttribute('href')).toBe('https://example.org/docs');
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer');
    expect(A.dialogs).toEqual([]);
    expect(G.dialogs).toEqual([]);
  });

  it('has no serious or critical accessibility violation on the main screens; screenshots at desktop and phone width', async () => {
    const check = async (page: Page, name: string) => {
      await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
      const result = await new AxeBuilder({ page }).analyze();
      const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      expect(bad.map((v) => `${name}: ${v.id} ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
    };
    await openChannel(A.page, general);
    await check(A.page, 'desktop-channel');
    const withReplies = message(A.page, 'Start here');
    await withReplies.getByRole('button', { name: /repl/ }).click();
    await A.page.getByTestId('thread').getByText('A reply from Grace').waitFor();
    await check(A.page, 'desktop-thread');
    await A.page.getByRole('button', { name: 'Close thread' }).click();
    await A.page.getByRole('button', { name: '+ Browse channels' }).click();
    await A.page.getByRole('dialog').getByText('# random').waitFor();
    await check(A.page, 'desktop-browser');
    await A.page.getByRole('button', { name: 'Close', exact: true }).click();

    const phone = await signedIn(browser, t, base, grace, { width: 390 });
    await phone.page.setViewportSize({ width: 390, height: 760 });
    await check(phone.page, 'phone-channels');
    await openChannel(phone.page, general);
    await check(phone.page, 'phone-channel');
    await phone.context.close();

    const fresh = await browser.newContext();
    const signin = await fresh.newPage();
    await signin.goto(`${base}/signin`);
    await signin.getByTestId('signin').waitFor();
    await check(signin, 'signin');
    await fresh.close();
  });

  it('finds, joins and creates channels from the channel browser', async () => {
    const other = await t.newChannel(ada, 'design');
    await G.page.getByRole('button', { name: '+ Browse channels' }).click();
    await G.page.getByLabel('Find a channel').fill('desi');
    await G.page.getByRole('dialog').getByRole('button', { name: 'Join' }).click();
    await G.page.locator(`[data-channel=${other}][aria-current=page]`).waitFor();
    await G.page.getByRole('button', { name: '+ Browse channels' }).click();
    await G.page.getByLabel('New channel name').fill('launch');
    await G.page.getByRole('button', { name: 'Create' }).click();
    await G.page.getByRole('heading', { name: '# launch' }).waitFor();
    const listed = await t.api('conversations.list', grace.token, {});
    expect(listed.body.channels.map((c: { name: string }) => c.name)).toContain('launch');
  });
});
