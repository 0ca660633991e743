import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, Socket, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { TestApp, type TestUser } from '../support/test-app.js';

// Browser tests drive Debian's Chromium (`.ci/run` installs it) against a real TestApp serving web/dist.

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SCREENSHOTS = join(ROOT, 'test', 'web', 'screenshots');

/** Builds the client once when web/dist is missing (CI builds it before the suite). */
export function ensureWebBuilt(): void {
  if (existsSync(join(ROOT, 'web', 'dist', 'index.html'))) return;
  execFileSync('npm', ['run', 'build', '--prefix', 'web'], { cwd: ROOT, stdio: 'ignore' });
}

export async function launchBrowser(): Promise<Browser> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
}

/**
 * The app behind a CuttableProxy: pages open `base` (the proxy), which is also the app's PUBLIC_URL,
 * so the Origin the browser sends is the one the server expects.
 */
export async function startWebApp(env: Record<string, string> = {}): Promise<{ t: TestApp; base: string; proxy: CuttableProxy }> {
  ensureWebBuilt();
  const proxy = new CuttableProxy();
  const base = await proxy.start();
  const t = await TestApp.start({ PUBLIC_URL: base, ...env });
  proxy.target = Number(new URL(t.url).port);
  return { t, base, proxy };
}

/** A fresh sign-in link for `user` (admin API), as the path + fragment to open on `base`. */
export async function signInLink(t: TestApp, user: TestUser): Promise<string> {
  const res = await t.admin('POST', `/workspaces/${user.workspace}/users/${user.id}/sign-in-links`);
  if (res.status !== 201) throw new Error(`sign-in link: ${JSON.stringify(res.body)}`);
  return new URL(res.body.url as string).hash;
}

export interface Person {
  context: BrowserContext;
  page: Page;
  dialogs: string[];
}

/** A person in their own browser context, signed in through a link, the client connected. */
export async function signedIn(browser: Browser, t: TestApp, base: string, user: TestUser, opts: { width?: number } = {}): Promise<Person> {
  const context = await browser.newContext({ viewport: { width: opts.width ?? 1280, height: 800 } });
  const page = await context.newPage();
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(`${base}/signin${await signInLink(t, user)}`);
  await connected(page);
  return { context, page, dialogs };
}

export async function newTab(person: Person, url: string): Promise<Page> {
  const page = await person.context.newPage();
  page.on('dialog', (d) => {
    person.dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(url);
  await connected(page);
  return page;
}

export const connected = (page: Page) => page.locator('[data-testid=connection][data-state=connected]').waitFor({ timeout: 20_000 });

export const openChannel = async (page: Page, channel: string) => {
  await page.locator(`[data-channel=${channel}]`).first().click();
  // attached: on a phone the sidebar hides once a channel is open.
  await page.locator(`[data-channel=${channel}][aria-current=page]`).first().waitFor({ state: 'attached' });
};

/** The texts of the messages the page shows (the virtualized window: the newest ones). */
export const shownTexts = (page: Page) => page.locator('[data-testid=messages] [data-testid=message] .mrkdwn').allInnerTexts();

/**
 * A TCP proxy in front of the server: the browser reaches the app through it, and `cut()` drops
 * every open connection and refuses new ones — a network drop that closes WebSockets too
 * (Playwright's setOffline does not close sockets already open).
 */
export class CuttableProxy {
  private server: Server;
  private sockets = new Set<Socket>();
  private down = false;
  port = 0;

  /** The server's port; set once it listens (the proxy's own origin is the app's PUBLIC_URL). */
  target = 0;

  constructor() {
    this.server = createServer((client) => {
      if (this.down) return client.destroy();
      const upstream = new Socket();
      upstream.connect(this.target, '127.0.0.1');
      this.track(client);
      this.track(upstream);
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
  }

  private track(s: Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
  }

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
    return `http://127.0.0.1:${this.port}`;
  }

  cut(): void {
    this.down = true;
    for (const s of this.sockets) s.destroy();
  }

  restore(): void {
    this.down = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise((r) => this.server.close(r));
  }
}
