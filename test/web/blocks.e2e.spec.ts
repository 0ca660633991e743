import { jest } from '@jest/globals';
import { join } from 'node:path';
import type { Browser, Page, Request } from 'playwright-core';
import type { TestApp, TestUser } from '../support/test-app.js';
import { connected, type CuttableProxy, launchBrowser, openChannel, SCREENSHOTS, signedIn, startWebApp, type Person } from './support.js';

// A bot's Block Kit message and legacy attachment as a person sees them in the browser; a button
// click sends client.blockAction with the block's fields; an ephemeral message is marked as such;
// a permalink opens the channel at its message.
jest.setTimeout(120_000);

// Images come from a literal loopback https address that the page's routes answer (never the network).
const IMAGES = 'https://127.0.0.1/bk';
const svg = (color: string, label: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="120"><rect width="320" height="120" fill="${color}"/>` +
  `<text x="16" y="70" font-size="28" fill="#fff" font-family="sans-serif">${label}</text></svg>`;

const BLOCKS = [
  { type: 'header', text: { type: 'plain_text', text: 'Deploy #42 to production' } },
  {
    type: 'section',
    block_id: 'summary',
    text: { type: 'mrkdwn', text: '*api* v1.2.3 is ready to ship. <https://ci.example.com/981|Build 981> passed.' },
    accessory: { type: 'image', image_url: `${IMAGES}/avatar.svg`, alt_text: 'deploy bot' },
  },
  {
    type: 'section',
    fields: [
      { type: 'mrkdwn', text: '*Service*\napi' },
      { type: 'mrkdwn', text: '*Requested by*\nada' },
    ],
  },
  { type: 'divider' },
  {
    type: 'image',
    image_url: `${IMAGES}/graph.svg`,
    alt_text: 'latency graph',
    title: { type: 'plain_text', text: 'p99 latency, last hour' },
  },
  { type: 'context', elements: [{ type: 'mrkdwn', text: 'Commit `abc123` · 3 files changed' }] },
  {
    type: 'actions',
    block_id: 'decide',
    elements: [
      { type: 'button', text: { type: 'plain_text', text: 'Approve' }, action_id: 'approve', value: 'deploy-42', style: 'primary' },
      { type: 'button', text: { type: 'plain_text', text: 'Reject' }, action_id: 'reject', value: 'deploy-42', style: 'danger' },
    ],
  },
];

const ATTACHMENTS = [
  {
    fallback: 'Build 981 passed',
    color: '#2eb67d',
    title: 'Build 981 passed',
    title_link: 'https://ci.example.com/981',
    text: 'All *412* tests passed',
    fields: [
      { title: 'Branch', value: 'main', short: true },
      { title: 'Duration', value: '3m 2s', short: true },
    ],
    footer: 'ci-bot',
  },
];

describe('web client: Block Kit messages', () => {
  let t: TestApp;
  let base: string;
  let proxy: CuttableProxy;
  let browser: Browser;
  let ada: TestUser;
  let grace: TestUser;
  let general: string;
  let G: Person;

  async function json(method: string, token: string, body: Record<string, unknown>) {
    const res = await fetch(`${t.url}/api/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    const answer = (await res.json()) as Record<string, any>;
    if (!answer.ok) throw new Error(`${method}: ${JSON.stringify(answer)}`);
    return answer;
  }

  const routeImages = (page: Page) =>
    page.route(`${IMAGES}/**`, (route) =>
      route.fulfill({
        contentType: 'image/svg+xml',
        body: route.request().url().endsWith('graph.svg') ? svg('#1264a3', 'p99 142 ms') : svg('#4a154b', 'bot'),
      }),
    );

  beforeAll(async () => {
    ({ t, base, proxy } = await startWebApp());
    const ws = await t.newWorkspace('Acme');
    ada = await t.newUser(ws, 'member', 'ada');
    grace = await t.newUser(ws, 'member', 'grace');
    general = await t.newChannel(ada, 'general', false, [grace]);
    browser = await launchBrowser();
    G = await signedIn(browser, t, base, grace);
    await routeImages(G.page);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await proxy?.close();
  });

  const message = (page: Page, text: string) => page.locator('[data-testid=messages] [data-testid=message]').filter({ hasText: text });

  it('renders header, sections, fields, image, context, divider, buttons and an attachment; a click sends client.blockAction', async () => {
    await openChannel(G.page, general);
    const posted = await json('chat.postMessage', ada.token, {
      channel: general,
      text: 'Deploy #42 needs approval',
      blocks: BLOCKS,
      attachments: ATTACHMENTS,
    });
    const row = message(G.page, 'Deploy #42 to production');
    await row.waitFor();
    const blocks = row.getByTestId('blocks').first();
    expect(await blocks.locator('[data-block-type]').evaluateAll((els) => els.map((e) => e.getAttribute('data-block-type')))).toEqual([
      'header',
      'section',
      'section',
      'divider',
      'image',
      'context',
      'actions',
    ]);
    expect(await row.getByRole('heading', { name: 'Deploy #42 to production' }).count()).toBe(1);
    expect(await row.locator('.bk-section strong').first().innerText()).toBe('api');
    expect(await row.getByRole('link', { name: 'Build 981' }).first().getAttribute('href')).toBe('https://ci.example.com/981');
    expect(await row.locator('.bk-field').allInnerTexts()).toEqual(['Service\napi', 'Requested by\nada']);
    expect(await row.locator('figcaption').innerText()).toBe('p99 latency, last hour');
    // The text is only the notification fallback once blocks carry the message.
    expect(await row.innerText()).not.toContain('needs approval');
    // Images loaded (from the page's route): decoded to their real size.
    await G.page.waitForFunction(() =>
      [...document.querySelectorAll<HTMLImageElement>('[data-testid=blocks] img')].every((img) => img.complete && img.naturalWidth > 0),
    );
    const attachment = row.getByTestId('attachment');
    expect(await attachment.locator('.att-title').innerText()).toBe('Build 981 passed');
    expect(await attachment.locator('.att-field').allInnerTexts()).toEqual(['Branch\nmain', 'Duration\n3m 2s']);
    expect(await attachment.locator('.att-bar').evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(46, 182, 125)');
    await row.screenshot({ path: join(SCREENSHOTS, 'blocks-message.png') });

    // The click reaches the server as client.blockAction with the block's fields (whatever it answers).
    const sent: Promise<Request> = G.page.waitForRequest((r) => r.url().endsWith('/api/client.blockAction'));
    await row.getByRole('button', { name: 'Approve' }).click();
    const request = await sent;
    expect(request.method()).toBe('POST');
    expect(request.postDataJSON()).toEqual({
      channel: general,
      message_ts: posted.ts,
      block_id: 'decide',
      action_id: 'approve',
      value: 'deploy-42',
      type: 'button',
    });
  });

  it('a refused click shows a clear error beside the buttons and blocks nothing else', async () => {
    await openChannel(G.page, general);
    const row = message(G.page, 'Deploy #42 to production');
    await row.waitFor();
    await G.page.route('**/api/client.blockAction', (route) =>
      route.fulfill({ contentType: 'application/json', body: JSON.stringify({ ok: false, error: 'app_not_reachable' }) }),
    );
    try {
      await row.getByRole('button', { name: 'Reject' }).click();
      const error = row.getByTestId('block-action-error');
      await error.waitFor();
      expect(await error.innerText()).toBe('That action did not go through (app_not_reachable).');
      // Still usable: sending a message works while the error shows.
      await G.page.getByLabel('Message #general', { exact: true }).fill('still here');
      await G.page.getByLabel('Message #general', { exact: true }).press('Enter');
      await message(G.page, 'still here').waitFor();
      expect(await error.isVisible()).toBe(true);
    } finally {
      await G.page.unroute('**/api/client.blockAction');
    }
  });

  it('shows an ephemeral message as "Only visible to you", and it is gone after a reload', async () => {
    await openChannel(G.page, general);
    await json('chat.postEphemeral', ada.token, {
      channel: general,
      user: grace.id,
      attachments: [{ color: 'warning', title: 'Heads up', text: 'Only you can see this hint' }],
    });
    const row = message(G.page, 'Heads up');
    await row.waitFor();
    expect(await row.locator('.ephemeral-note').innerText()).toBe('Only visible to you');
    expect(await row.locator('.att-bar').evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(236, 178, 46)');
    await G.page.screenshot({ path: join(SCREENSHOTS, 'blocks-channel.png') });
    await G.page.reload();
    await message(G.page, 'still here').waitFor();
    expect(await message(G.page, 'Heads up').count()).toBe(0);
  });

  it('an edit shows live: new blocks replace the old, and with blocks removed the text shows; a /me message reads as one', async () => {
    await openChannel(G.page, general);
    const posted = await json('chat.postMessage', ada.token, { channel: general, text: 'Status fallback', blocks: [BLOCKS[0]] });
    const row = G.page.locator(`[data-testid=message][data-ts="${posted.ts}"]`);
    await row.getByRole('heading', { name: 'Deploy #42 to production' }).waitFor();
    await json('chat.update', ada.token, {
      channel: general,
      ts: posted.ts,
      text: 'Status fallback',
      blocks: [{ type: 'header', text: { type: 'plain_text', text: 'Deploy #42 approved' } }],
    });
    await row.getByRole('heading', { name: 'Deploy #42 approved' }).waitFor();
    await json('chat.update', ada.token, { channel: general, ts: posted.ts, text: 'Deploy #42 is live', blocks: [] });
    await row.locator('.mrkdwn').filter({ hasText: 'Deploy #42 is live' }).waitFor();
    expect(await row.getByTestId('blocks').count()).toBe(0);
    // A /me message reads as an action.
    const me = await json('chat.meMessage', ada.token, { channel: general, text: 'is deploying' });
    await G.page.locator(`[data-testid=message][data-ts="${me.ts}"] .me-message`).filter({ hasText: 'is deploying' }).waitFor();
  });

  it('a permalink opens the channel at its message, highlighted, even when it is far up', async () => {
    const target = await json('chat.postMessage', ada.token, { channel: general, text: 'The message the link points at' });
    for (let i = 1; i <= 40; i++) await json('chat.postMessage', ada.token, { channel: general, text: `Later message ${i}` });
    const { permalink } = await json('chat.getPermalink', grace.token, { channel: general, message_ts: target.ts });
    expect(permalink).toBe(`${base}/archives/${general}/p${target.ts.replace('.', '')}`);
    const page = await G.context.newPage();
    await routeImages(page);
    await page.goto(permalink);
    const row = page.locator(`[data-testid=message][data-ts="${target.ts}"]`);
    await row.and(page.locator('.highlight')).waitFor();
    await page.waitForFunction((ts) => {
      const el = document.querySelector(`[data-testid=message][data-ts="${ts}"]`);
      const pane = document.querySelector('[data-testid=messages]');
      if (!el || !pane) return false;
      const r = el.getBoundingClientRect();
      const p = pane.getBoundingClientRect();
      return r.top >= p.top && r.bottom <= p.bottom;
    }, target.ts);
    await page.screenshot({ path: join(SCREENSHOTS, 'blocks-permalink.png') });
    await page.close();
  });

  it("a permalink lands when its channel's first page arrives between a redraw and the effects after it (a slow device)", async () => {
    // The linked channel's author is someone the page does not know yet: looking up their name is
    // what shows that the first page has been taken in (the clock stops the redraw that would show it).
    const linus = await t.newUser(ada.workspace, 'member', 'linus');
    const links = await t.newChannel(linus, 'links', false, [grace]);
    const elsewhere = await t.newChannel(ada, 'elsewhere', false, [grace]);
    const target = await json('chat.postMessage', linus.token, { channel: links, text: 'Linked from a slow phone' });
    for (let i = 1; i <= 40; i++) await json('chat.postMessage', linus.token, { channel: links, text: `After the link ${i}` });
    const { permalink } = await json('chat.getPermalink', grace.token, { channel: links, message_ts: target.ts });
    const P = await signedIn(browser, t, base, grace);
    try {
      const { page } = P;
      let release = () => {};
      const held = new Promise<void>((r) => (release = r));
      await page.route('**/api/conversations.history', async (route) => {
        await held;
        await route.continue();
      });
      await page.clock.install();
      await page.goto(permalink);
      await connected(page);
      await page.getByTestId('messages').waitFor(); // the channel is open, its first page on the way
      // From here on frames, and the effects that run after them, wait for the clock; the network does not.
      await page.clock.pauseAt((await page.evaluate(() => Date.now())) + 100);
      // A redraw while the page is on the way (an event elsewhere: its badge shows the redraw happened).
      // Frames fall every 16 ms of the clock: steps of 4 ms stop it before the next frame (or the 35 ms
      // fallback), where Preact runs that redraw's effects.
      await json('chat.postMessage', ada.token, { channel: elsewhere, text: 'Meanwhile elsewhere' });
      const badge = page.locator(`[data-channel=${elsewhere}] [data-testid=badge]`);
      for (let i = 0; i < 1000 && !(await badge.count()); i++) await page.clock.runFor(4);
      expect(await badge.innerText()).toBe('1');
      // The first page arrives and is taken in (its author's name is asked for right after) before that
      // redraw's effects run.
      const taken = page.waitForRequest((r) => r.url().endsWith('/api/users.info') && r.postDataJSON().user === linus.id);
      release();
      await taken;
      await page.clock.resume();
      const row = page.locator(`[data-testid=message][data-ts="${target.ts}"].highlight`);
      await row.waitFor({ timeout: 10_000 });
      // The highlight fades in (a CSS transition): the screenshot shows it as the reader sees it, once in.
      await page.waitForFunction(
        (ts) =>
          getComputedStyle(document.querySelector(`[data-testid=message][data-ts="${ts}"]`)!).backgroundColor === 'rgb(255, 246, 214)',
        target.ts,
      );
      await page.screenshot({ path: join(SCREENSHOTS, 'blocks-permalink-slow.png') });
    } finally {
      await P.context.close();
    }
  });
});
