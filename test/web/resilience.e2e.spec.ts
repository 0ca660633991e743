import { jest } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import type { TestApp, TestUser } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';
import { type CuttableProxy, connected, launchBrowser, openChannel, shownTexts, signedIn, startWebApp, type Person } from './support.js';

// Nothing lost, nothing doubled: a network drop with an offline queue, and a reload mid-stream.
// A browser, a server and Chromium's start-up share two cores with the rest of the suite.
jest.setTimeout(120_000);

describe('web client: network drops and reloads', () => {
  let t: TestApp;
  let base: string;
  let proxy: CuttableProxy;
  let browser: Browser;
  let ada: TestUser;
  let grace: TestUser;
  let channel: string;

  beforeAll(async () => {
    ({ t, base, proxy } = await startWebApp());
    const ws = await t.newWorkspace('Acme');
    ada = await t.newUser(ws, 'member', 'ada');
    grace = await t.newUser(ws, 'member', 'grace');
    channel = await t.newChannel(ada, 'general', false, [grace]);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await proxy?.close();
  });

  /** Every message of the channel, oldest first, as the server has it. */
  const history = async (): Promise<string[]> => {
    const texts: string[] = [];
    let cursor = '';
    do {
      const page = await t.api('conversations.history', ada.token, { channel, limit: 200, ...(cursor ? { cursor } : {}) });
      texts.push(...page.body.messages.map((m: { text: string }) => m.text));
      cursor = page.body.response_metadata.next_cursor;
    } while (cursor);
    return texts.reverse();
  };
  // Tall windows, so the virtualized list holds every message of these tests on screen.
  const tall = async (p: Person) => p.page.setViewportSize({ width: 1000, height: 6000 });
  const tail = async (page: Page, n: number) => (await shownTexts(page)).slice(-n);

  it('queues messages written offline and sends them in order on reconnect; both sides end up identical', async () => {
    const A = await signedIn(browser, t, base, ada);
    const G = await signedIn(browser, t, base, grace);
    await tall(A);
    await tall(G);
    await openChannel(A.page, channel);
    await openChannel(G.page, channel);
    await A.page.getByLabel('Message #general').fill('before the drop');
    await A.page.getByLabel('Message #general').press('Enter');
    await G.page.getByText('before the drop').waitFor();

    // Only Grace's network drops: Ada's page keeps its socket (the proxy cuts all, so Ada reconnects
    // as soon as it is back; setOffline keeps Grace's page from reconnecting until then).
    proxy.cut();
    await G.context.setOffline(true);
    await G.page.locator('[data-testid=connection][data-state=reconnecting]').waitFor();
    for (let i = 1; i <= 50; i++) await t.api('chat.postMessage', ada.token, { channel, text: `ada ${i}` });
    for (let i = 1; i <= 5; i++) {
      await G.page.getByLabel('Message #general').fill(`grace offline ${i}`);
      await G.page.getByLabel('Message #general').press('Enter');
    }
    await waitFor(async () => (await G.page.getByTestId('pending').count()) === 5, 10_000, 'five messages pending');

    proxy.restore();
    await G.context.setOffline(false);
    await connected(G.page);
    await waitFor(async () => (await G.page.getByTestId('pending').count()) === 0, 20_000, 'the offline queue sent');
    const expected = [
      'before the drop',
      ...Array.from({ length: 50 }, (_, i) => `ada ${i + 1}`),
      ...Array.from({ length: 5 }, (_, i) => `grace offline ${i + 1}`),
    ];
    expect((await history()).slice(-56)).toEqual(expected);
    await waitFor(async () => (await tail(A.page, 56)).join('\n') === expected.join('\n'), 20_000, "Ada's page to show everything");
    await waitFor(async () => (await tail(G.page, 56)).join('\n') === expected.join('\n'), 20_000, "Grace's page to show everything");
    // Exactly once on both sides: the whole list equals the server's history.
    expect(await shownTexts(A.page)).toEqual(await history());
    expect(await shownTexts(G.page)).toEqual(await history());
    await A.context.close();
    await G.context.close();
  });

  it('resumes from its stored cursors after a reload mid-stream: no duplicate, no gap', async () => {
    const G = await signedIn(browser, t, base, grace);
    await tall(G);
    await openChannel(G.page, channel);
    // 40 paced posts: with the 57 before them they fit the client's first history page (100), so
    // every one must be on screen after the reload without scrolling back.
    const total = 40;
    let posted = 0;
    const stream = (async () => {
      while (posted < total) {
        await t.api('chat.postMessage', ada.token, { channel, text: `stream ${++posted}` });
        await new Promise((r) => setTimeout(r, 40));
      }
    })();
    await G.page.getByText('stream 5', { exact: true }).waitFor();
    await G.page.reload();
    await connected(G.page);
    await openChannel(G.page, channel);
    await stream;
    expect(posted).toBe(total);
    const all = await history();
    await waitFor(async () => (await tail(G.page, 1))[0] === `stream ${posted}`, 20_000, 'the last post on screen');
    const shown = await shownTexts(G.page);
    expect(new Set(shown).size).toBe(shown.length);
    expect(shown).toEqual(all.slice(all.length - shown.length));
    expect(shown.filter((s) => s.startsWith('stream '))).toEqual(Array.from({ length: posted }, (_, i) => `stream ${i + 1}`));
    // The cursors were kept across the reload (and sent in the handshake).
    const stored = await G.page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('atomcast:cursors:')));
    expect(stored).toHaveLength(1);
    await G.context.close();
  });
});
