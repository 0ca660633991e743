import { jest } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { TestApp, TestUser } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';
import { type CuttableProxy, launchBrowser, SCREENSHOTS, signedIn, startWebApp, type Person } from './support.js';

// Search from the web client: the header's box sends the query as typed (Slack's syntax), hits
// show channel, author, time and the matched words highlighted (as text), a private channel's
// messages stay hidden from non-members, a click opens the channel at the message, and the Files
// tab finds a shared file by name.
jest.setTimeout(120_000);

describe('web client: search', () => {
  let t: TestApp;
  let base: string;
  let proxy: CuttableProxy;
  let browser: Browser;
  let filesDir: string;
  let ada: TestUser;
  let grace: TestUser;
  let general: string;
  let random: string;
  let secret: string;
  let G: Person;
  let target: string;

  const post = async (token: string, channel: string, text: string) => {
    const res = await t.api('chat.postMessage', token, { channel, text });
    if (!res.body.ok) throw new Error(JSON.stringify(res.body));
    return res.body.ts as string;
  };
  const found = async (token: string, query: string) =>
    ((await t.api('search.messages', token, { query })).body.messages?.total as number | undefined) ?? 0;

  beforeAll(async () => {
    filesDir = await mkdtemp(join(tmpdir(), 'atomcast-websearch-'));
    ({ t, base, proxy } = await startWebApp({ FILES_DIR: filesDir }));
    const ws = await t.newWorkspace('Acme');
    ada = await t.newUser(ws, 'member', 'ada');
    grace = await t.newUser(ws, 'member', 'grace');
    general = await t.newChannel(ada, 'general', false, [grace]);
    random = await t.newChannel(ada, 'random', false, [grace]);
    secret = await t.newChannel(ada, 'secret', true);
    target = await post(ada.token, general, 'The quarterly roadmap is ready for <@' + grace.id + '> & the team');
    // The hit is far up the channel: opening it has to load older pages first.
    for (let i = 1; i <= 40; i++) await post(grace.token, general, `Chatter ${i}`);
    await post(grace.token, random, 'quarterly numbers look fine');
    await post(ada.token, secret, 'quarterly layoffs plan, do not share');
    // A file whose name the Files tab finds, its bytes posted as text/plain (fetch's label for a
    // string body): the upload route must still stream them, not meet fastify's text parser.
    const up = (await t.api('files.getUploadURLExternal', ada.token, { filename: 'quarterly-report.txt', length: 6 })).body;
    expect((await fetch(up.upload_url as string, { method: 'POST', body: 'report' })).status).toBe(200);
    const done = await t.api('files.completeUploadExternal', ada.token, {
      files: JSON.stringify([{ id: up.file_id }]),
      channel_id: random,
    });
    expect(done.body.ok).toBe(true);
    // The index is kept by a consumer of the log, a little after the posts.
    await waitFor(async () => (await found(ada.token, 'quarterly')) === 3, 20_000, 'the search index');
    browser = await launchBrowser();
    G = await signedIn(browser, t, base, grace);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await proxy?.close();
    if (filesDir) await rm(filesDir, { recursive: true, force: true });
  });

  const search = async (page: Page, query: string) => {
    const box = page.getByRole('searchbox', { name: 'Search messages and files' });
    await box.fill(query);
    await box.press('Enter');
    const results = page.getByTestId('search-results');
    await results.locator('.search-list[aria-busy=false]').waitFor();
    return results;
  };
  const hits = (page: Page) => page.getByTestId('search-hit');

  it('finds a phrase with its channel, author and highlighted words; a private channel is not searched for a non-member', async () => {
    const results = await search(G.page, 'quarterly');
    // The private channel's message is not among grace's hits; ada (a member) finds it.
    expect(await results.getByTestId('search-total').innerText()).toBe('2 messages');
    expect(await hits(G.page).evaluateAll((els) => els.map((e) => e.getAttribute('data-channel')).sort())).toEqual(
      [general, random].sort(),
    );
    expect(await results.innerText()).not.toContain('layoffs');
    expect(await found(ada.token, 'quarterly in:#secret')).toBe(1);

    const hit = hits(G.page).and(G.page.locator(`[data-ts="${target}"]`));
    expect(await hit.locator('.hit-channel').innerText()).toBe('# general');
    expect(await hit.locator('.hit-author').innerText()).toBe('ada');
    expect(await hit.locator('time').innerText()).not.toBe('');
    // Mentions read as names, entities decoded, the match marked; all of it text, no markup from the message.
    expect(await hit.locator('.hit-text').innerText()).toBe('The quarterly roadmap is ready for @grace & the team');
    expect(await hit.locator('.hit-text mark').allInnerTexts()).toEqual(['quarterly']);
    expect(await hit.locator('.hit-text *:not(mark)').count()).toBe(0);
    await G.page.screenshot({ path: join(SCREENSHOTS, 'search-results.png') });

    // Slack's syntax as typed: a quoted phrase limited to a channel, and an excluded word.
    await search(G.page, '"roadmap is ready" in:#general');
    expect(await hits(G.page).evaluateAll((els) => els.map((e) => e.getAttribute('data-ts')))).toEqual([target]);
    expect(await hits(G.page).locator('mark').allInnerTexts()).toEqual(['roadmap', 'is', 'ready']);
    await search(G.page, 'quarterly -roadmap');
    expect(await hits(G.page).locator('.hit-channel').allInnerTexts()).toEqual(['# random']);
    await search(G.page, 'layoffs');
    expect(await G.page.getByTestId('search-total').innerText()).toBe('No messages match.');
  });

  it('pages through many hits', async () => {
    await search(G.page, 'chatter');
    expect(await G.page.getByTestId('search-total').innerText()).toBe('40 messages');
    expect(await hits(G.page).count()).toBe(20);
    const pager = G.page.getByRole('navigation', { name: 'Result pages' });
    expect(await pager.locator('span').innerText()).toBe('Page 1 of 2');
    const first = await hits(G.page).evaluateAll((els) => els.map((e) => e.getAttribute('data-ts')));
    await pager.getByRole('button', { name: 'Next ›' }).click();
    await pager.locator('span').filter({ hasText: 'Page 2 of 2' }).waitFor();
    await G.page.locator('.search-list[aria-busy=false]').waitFor();
    const second = await hits(G.page).evaluateAll((els) => els.map((e) => e.getAttribute('data-ts')));
    expect(second).toHaveLength(20);
    // Every message once across the two pages.
    expect(new Set([...first, ...second]).size).toBe(40);
  });

  it('a total past the server\'s exact count reads as a floor: "2,000+ messages"', async () => {
    const standup = await t.newChannel(ada, 'standup', false, [grace]);
    for (let i = 0; i < 2001; i += 50) {
      await Promise.all(Array.from({ length: Math.min(50, 2001 - i) }, (_, j) => post(ada.token, standup, `standup note ${i + j}`)));
    }
    await waitFor(async () => (await found(grace.token, 'standup note')) === 2000, 60_000, 'the search index');
    await search(G.page, 'standup');
    expect(await G.page.getByTestId('search-total').innerText()).toBe('2,000+ messages');
    expect(await G.page.getByRole('navigation', { name: 'Result pages' }).locator('span').innerText()).toBe('Page 1 of 100');
    await G.page.getByTestId('search-results').screenshot({ path: join(SCREENSHOTS, 'search-capped.png') });
  });

  it('a click on a hit opens its channel at the message, highlighted, far up the history', async () => {
    await search(G.page, 'roadmap');
    await hits(G.page).first().click();
    await G.page.locator(`[data-channel=${general}][aria-current=page]`).first().waitFor();
    const row = G.page.locator(`[data-testid=messages] [data-testid=message][data-ts="${target}"]`);
    await row.and(G.page.locator('.highlight')).waitFor();
    await G.page.waitForFunction((ts) => {
      const el = document.querySelector(`[data-testid=messages] [data-testid=message][data-ts="${ts}"]`);
      const pane = document.querySelector('[data-testid=messages]');
      if (!el || !pane) return false;
      const r = el.getBoundingClientRect();
      const p = pane.getBoundingClientRect();
      return r.top >= p.top && r.bottom <= p.bottom;
    }, target);
    expect(new URL(G.page.url()).pathname).toBe(`/archives/${general}/p${target.replace('.', '')}`);
    await G.page.screenshot({ path: join(SCREENSHOTS, 'search-opened.png') });
  });

  it('the Files tab finds a shared file by name, with its download link', async () => {
    await search(G.page, 'quarterly');
    await G.page.getByRole('tab', { name: 'Files' }).click();
    const file = G.page.getByTestId('search-file');
    await file.first().waitFor();
    expect(await G.page.getByTestId('search-total').innerText()).toBe('1 file');
    expect(await file.locator('.file-name').innerText()).toBe('quarterly-report.txt');
    const href = await file.getByRole('link', { name: 'Download quarterly-report.txt' }).getAttribute('href');
    const body = await G.page.evaluate(async (url) => (await fetch(url!, { credentials: 'same-origin' })).text(), href);
    expect(body).toBe('report');
    await G.page.getByTestId('search-results').screenshot({ path: join(SCREENSHOTS, 'search-files.png') });
  });

  it('on a phone the results take the screen, and closing them brings the channels back', async () => {
    const phone = await signedIn(browser, t, base, grace, { width: 390 });
    try {
      await search(phone.page, 'roadmap');
      expect(await phone.page.getByRole('navigation', { name: 'Channels' }).isVisible()).toBe(false);
      expect(await hits(phone.page).count()).toBe(1);
      await phone.page.screenshot({ path: join(SCREENSHOTS, 'search-phone.png') });
      await phone.page.getByRole('button', { name: 'Close search' }).click();
      await phone.page.getByRole('navigation', { name: 'Channels' }).waitFor();
      // A hit opens the channel in place of the results.
      await search(phone.page, 'roadmap');
      await hits(phone.page).first().click();
      await phone.page.locator(`[data-testid=messages] [data-testid=message][data-ts="${target}"].highlight`).waitFor();
      expect(await phone.page.getByTestId('search-results').count()).toBe(0);
    } finally {
      await phone.context.close();
    }
  });
});
