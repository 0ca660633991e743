// npm run bench:web [-- --quick]
// The web client in Debian's Chromium against the real app (in this process) on its own database:
// cold load to the first message on screen and the gzipped JS/CSS of the first screen; 200 incoming
// messages/s for 10 s into the open channel (every one rendered, in order; the longest main-thread
// task); a 10,000-message channel scrolled from newest to oldest (the longest task).
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config/config.js';
import { createBenchDatabase, dropBenchDatabase } from './append/setup.js';
import { type Figure, figure, machineLines, REPO_ROOT, startRun, writeResults } from './results.js';

const quick = process.argv.includes('--quick');
const RATE = 200;
const SECONDS = quick ? 3 : 10;
const BIG = quick ? 2000 : 10_000;
const LOADS = quick ? 3 : 7;
const SERVER = process.env.BENCH_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432';
const OPERATOR = 'bench-operator-token-0123456789';

/** The first screen's assets as index.html names them, gzipped (what the wire carries). */
function assetSizes(): { js: number; css: number } {
  const dist = `${REPO_ROOT}web/dist`;
  const html = readFileSync(`${dist}/index.html`, 'utf8');
  const size = (re: RegExp) =>
    [...html.matchAll(re)].reduce((sum, m) => sum + gzipSync(readFileSync(`${dist}${m[1]}`), { level: 9 }).length, 0) / 1024;
  return { js: size(/<script[^>]+src="([^"]+)"/g), css: size(/<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"/g) };
}

/** Records long tasks (the browser reports those of 50 ms and more) from now on; returns the longest so far. */
const watchLongTasks = (page: Page) =>
  page.evaluate(() => {
    const w = window as unknown as { longest: number };
    w.longest = 0;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.longest = Math.max(w.longest, e.duration);
    }).observe({ type: 'longtask' });
  });
const longest = (page: Page) => page.evaluate(() => (window as unknown as { longest: number }).longest);

async function main(): Promise<void> {
  const dbUrl = await createBenchDatabase(SERVER);
  const run = await startRun(dbUrl);
  // The browser's Origin must be the app's PUBLIC_URL: pick the port before the app starts.
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
  const base = `http://127.0.0.1:${port}`;
  const app = await createApp(
    loadConfig({
      ...process.env,
      DATABASE_URL: dbUrl,
      ADMIN_TOKEN: OPERATOR,
      PUBLIC_URL: base,
      WEB_DIST_DIR: `${REPO_ROOT}web/dist`,
      LOG_LEVEL: 'silent',
      RATE_LIMIT_PER_MINUTE: '10000000',
      JOBS_PREFIX: new URL(dbUrl).pathname.slice(1),
    }),
  ).catch(async (err) => {
    await dropBenchDatabase(dbUrl);
    throw err;
  });
  await app.listen(port, '127.0.0.1');
  const admin = async (path: string, body: unknown = {}) => {
    const res = await fetch(`${base}/admin/v1${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return (await res.json()) as Record<string, any>;
  };
  const api = async (method: string, token: string, args: Record<string, unknown>) => {
    const res = await fetch(`${base}/api/${method}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(args),
    });
    return (await res.json()) as Record<string, any>;
  };
  let browser: Browser | undefined;
  const figures: Figure[] = [];
  const notes: string[] = [];
  try {
    const ws = (await admin('/workspaces', { name: 'Bench' })).id as string;
    const ada = await admin(`/workspaces/${ws}/users`, { name: 'ada', role: 'member' });
    const grace = await admin(`/workspaces/${ws}/users`, { name: 'grace', role: 'member' });
    const create = async (name: string) => {
      const c = (await api('conversations.create', ada.token, { name })).channel.id as string;
      await api('conversations.invite', ada.token, { channel: c, users: grace.user.id });
      return c;
    };
    const general = await create('general');
    const big = await create('big');
    for (let i = 0; i < 50; i++) await api('chat.postMessage', ada.token, { channel: general, text: `hello ${i}` });
    // A keep-alive connection the server closed at the wrong moment: send that post again.
    const seedPost = async (method: string, token: string, args: Record<string, unknown>) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await api(method, token, args);
        } catch (err) {
          if (attempt >= 3) throw err;
        }
      }
    };
    process.stderr.write(`seeding ${BIG} messages...\n`);
    let n = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (n < BIG)
          await seedPost('chat.postMessage', ada.token, {
            channel: big,
            text: `old message ${++n} with *some* _mrkdwn_ and <https://example.org|a link>`,
          });
      }),
    );

    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-dev-shm-usage'],
    });
    const signIn = async () => {
      const link = (await admin(`/workspaces/${ws}/users/${grace.user.id}/sign-in-links`)).url as string;
      const ctx = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await ctx.newPage();
      await page.goto(`${base}/signin${new URL(link).hash}`);
      await page.locator('[data-testid=connection][data-state=connected]').waitFor({ timeout: 30_000 });
      return { ctx, page };
    };

    // 1. Cold load: a fresh context (empty cache) with a session cookie, straight to the channel.
    const { ctx: signed } = await signIn();
    const cookies = await signed.cookies();
    const loads: number[] = [];
    for (let i = 0; i < LOADS; i++) {
      const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      await ctx.addCookies(cookies);
      const page = await ctx.newPage();
      await page.goto(`${base}/c/${general}`);
      await page.locator('[data-testid=message]').first().waitFor();
      loads.push(await page.evaluate(() => performance.now()));
      await ctx.close();
    }
    loads.sort((a, b) => a - b);
    const sizes = assetSizes();
    figures.push(
      figure('cold load to first message (median)', loads[Math.floor(loads.length / 2)], 'ms', { op: '<=', value: 500 }),
      figure('JS of the first screen, gzipped', sizes.js, 'KB', { op: '<=', value: 150 }),
      figure('CSS of the first screen, gzipped', sizes.css, 'KB'),
    );

    // 2. 200 messages/s for SECONDS s into the open channel.
    const { page } = await signIn();
    await page.locator(`[data-channel=${general}]`).click();
    await page.locator('[data-testid=message]').first().waitFor();
    await page.evaluate(() => {
      const w = window as unknown as { seen: string[]; seenSet: Set<string> };
      w.seen = [];
      w.seenSet = new Set();
      new MutationObserver(() => {
        for (const el of document.querySelectorAll('[data-testid=messages] [data-testid=message] .mrkdwn')) {
          const text = el.textContent ?? ''; // not innerText: that forces a layout per call
          if (text.startsWith('burst ') && !w.seenSet.has(text)) {
            w.seenSet.add(text);
            w.seen.push(text);
          }
        }
      }).observe(document.querySelector('[data-testid=messages]')!, { childList: true, subtree: true });
    });
    await watchLongTasks(page);
    const total = RATE * SECONDS;
    const start = Date.now();
    const sends: Promise<unknown>[] = [];
    for (let i = 1; i <= total; i++) {
      const due = start + (i * 1000) / RATE;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      sends.push(api('chat.postMessage', ada.token, { channel: general, text: `burst ${i}` }));
    }
    await Promise.all(sends);
    const sentIn = (Date.now() - start) / 1000;
    await page
      .waitForFunction((t) => (window as unknown as { seen: string[] }).seen.length >= t, total, { timeout: 60_000 })
      .catch(() => undefined);
    const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
    // In order = in the server's order (conversations.history), whatever order the posts committed in.
    const stored: string[] = [];
    for (let cursor = ''; ;) {
      const h = await api('conversations.history', ada.token, { channel: general, limit: 999, ...(cursor ? { cursor } : {}) });
      stored.push(...(h.messages as Array<{ text: string }>).map((m) => m.text).filter((t) => t.startsWith('burst ')));
      cursor = h.response_metadata.next_cursor;
      if (!cursor) break;
    }
    stored.reverse();
    const inOrder = seen.length === total && seen.every((s, i) => s === stored[i]);
    figures.push(
      figure(`messages rendered of ${total} at ${RATE}/s`, seen.length, 'messages', { op: '>=', value: total }),
      figure('rendered in order (1 = yes)', inOrder ? 1 : 0, '', { op: '>=', value: 1 }),
      figure(`longest main-thread task during ${RATE} msgs/s`, await longest(page), 'ms', { op: '<=', value: 100 }),
    );
    notes.push(
      `the ${total} posts took ${sentIn.toFixed(1)} s to send (paced HTTP posts); long tasks are reported by Chromium from 50 ms on, so 0 means none reached 50 ms`,
    );

    // 3. The big channel, scrolled from newest to oldest (older pages load as it goes).
    await page.locator(`[data-channel=${big}]`).click();
    await page.locator('[data-testid=message]').first().waitFor();
    await watchLongTasks(page);
    const scrollStart = Date.now();
    await page.evaluate(async () => {
      const el = document.querySelector('[data-testid=messages]') as HTMLElement;
      const deadline = Date.now() + 600_000;
      while (!(document.querySelector('.channel-start') && el.scrollTop === 0) && Date.now() < deadline) {
        el.scrollTop = Math.max(0, el.scrollTop - 1500);
        await new Promise((r) => requestAnimationFrame(r));
      }
    });
    const oldest = await page.locator('[data-testid=message] .mrkdwn').first().innerText();
    figures.push(
      figure(`longest task scrolling ${BIG.toLocaleString('en')} messages to the oldest`, await longest(page), 'ms', {
        op: '<=',
        value: 100,
      }),
      figure('scroll to the oldest message', (Date.now() - scrollStart) / 1000, 's'),
    );
    notes.push(`the scroll reached "${oldest.slice(0, 40)}" (the channel's first message), paging conversations.history 100 at a time`);
  } finally {
    await browser?.close();
    await app.close();
    await dropBenchDatabase(dbUrl);
  }
  for (const line of machineLines(run.machine)) process.stdout.write(`${line}\n`);
  for (const f of figures)
    process.stdout.write(
      `${f.name}: ${f.value === null ? 'not measured' : f.value.toFixed(1)} ${f.unit}${f.met === false ? '  (target missed)' : ''}\n`,
    );
  writeResults(run, { benchmark: 'web', quick, figures, ratios: [], notes });
}

await main();
