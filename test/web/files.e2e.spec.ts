import { jest } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import type { TestApp, TestUser } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';
import { type CuttableProxy, launchBrowser, openChannel, SCREENSHOTS, signedIn, startWebApp, type Person } from './support.js';

// Files through the web client, the way Slack clients send them: an image from the attach button,
// a text file dropped on the channel and one pasted into the composer; another person sees them
// live (the image as a picture, the text file as a card whose download has the same bytes).
jest.setTimeout(120_000);

const MAX_BYTES = 2_000_000;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('web client: files', () => {
  let t: TestApp;
  let base: string;
  let proxy: CuttableProxy;
  let browser: Browser;
  let filesDir: string;
  let ada: TestUser;
  let grace: TestUser;
  let general: string;
  let A: Person;
  let G: Person;
  let png: Buffer;

  beforeAll(async () => {
    filesDir = await mkdtemp(join(tmpdir(), 'atomcast-webfiles-'));
    ({ t, base, proxy } = await startWebApp({
      FILES_DIR: filesDir,
      FILES_MAX_BYTES: String(MAX_BYTES),
      JOBS_DISPATCH_INTERVAL_MS: '50',
      EKM_LOCAL_MASTER_KEY: randomBytes(32).toString('base64'),
    }));
    const ws = await t.newWorkspace('Acme');
    ada = await t.newUser(ws, 'member', 'ada');
    grace = await t.newUser(ws, 'member', 'grace');
    general = await t.newChannel(ada, 'general', false, [grace]);
    png = await sharp({ create: { width: 900, height: 600, channels: 3, background: '#1264a3' } })
      .composite([
        {
          input: Buffer.from(
            '<svg xmlns="http://www.w3.org/2000/svg" width="900" height="600"><circle cx="450" cy="300" r="200" fill="#ecb22e"/></svg>',
          ),
        },
      ])
      .png()
      .toBuffer();
    browser = await launchBrowser();
    [A, G] = await Promise.all([signedIn(browser, t, base, ada), signedIn(browser, t, base, grace)]);
    await Promise.all([openChannel(A.page, general), openChannel(G.page, general)]);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await proxy?.close();
    if (filesDir) await rm(filesDir, { recursive: true, force: true });
  });

  const message = (page: Page, text: string) => page.locator('[data-testid=messages] [data-testid=message]').filter({ hasText: text });
  const history = async () =>
    (await t.api('conversations.history', grace.token, { channel: general, limit: 100 })).body.messages as Array<Record<string, any>>;

  it('an image from the attach button: progress while it uploads, then live on the other page as a picture', async () => {
    // Hold the bytes' request so the progress bar is seen; released once it is.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await A.page.route('**/files/upload/**', async (route) => {
      await held;
      await route.continue();
    });
    const asked = A.page.waitForResponse((r) => r.url().endsWith('/api/files.getUploadURLExternal'));
    await A.page.getByTestId('file-input').setInputFiles({ name: 'chart.png', mimeType: 'image/png', buffer: png });
    const fileId = ((await (await asked).json()) as { file_id: string }).file_id;
    const upload = A.page.getByTestId('upload').filter({ hasText: 'chart.png' });
    await upload.and(A.page.locator('[data-state=uploading]')).waitFor();
    expect(await upload.getByRole('progressbar').count()).toBe(1);
    expect(await A.page.getByRole('button', { name: 'Send' }).isDisabled()).toBe(true);
    await A.page.getByTestId('composer').screenshot({ path: join(SCREENSHOTS, 'files-uploading.png') });
    release();
    await upload.and(A.page.locator('[data-state=ready]')).waitFor();
    await A.page.unroute('**/files/upload/**');
    // The thumbnail is made by a job once the bytes are stored; a person typing a comment gives it time.
    await waitFor(async () => !!(await t.api('files.info', ada.token, { file: fileId })).body.file?.thumb_360, 20_000, 'the thumbnail');
    const box = A.page.getByLabel('Message #general', { exact: true });
    await box.fill('Here is the chart');
    await box.press('Enter');

    // Grace sees it live: the comment and the picture, decoded.
    const row = message(G.page, 'Here is the chart');
    const img = row.locator('[data-testid=file] img');
    await img.waitFor();
    await G.page.waitForFunction(
      (ts) => {
        const el = document.querySelector<HTMLImageElement>(`[data-testid=message][data-ts="${ts}"] [data-testid=file] img`);
        return !!el && el.complete && el.naturalWidth > 0;
      },
      await row.getAttribute('data-ts'),
    );
    expect(await img.getAttribute('alt')).toBe('chart.png');
    expect(await img.evaluate((el: HTMLImageElement) => [el.naturalWidth, el.naturalHeight])).toEqual([360, 240]);
    expect(await A.page.getByTestId('upload').count()).toBe(0);
    const shown = await img.boundingBox();
    expect(shown!.width).toBeLessThanOrEqual(360);

    // The stored message has the file, and its bytes are the image's.
    const [posted] = (await history()).filter((m) => m.text === 'Here is the chart');
    expect(posted.files).toEqual([expect.objectContaining({ id: fileId, name: 'chart.png', mimetype: 'image/png', size: png.length })]);
    expect(await img.getAttribute('src')).toBe(posted.files[0].thumb_360);
    await row.screenshot({ path: join(SCREENSHOTS, 'files-image.png') });
    const bytes = await G.page.evaluate(async (url) => {
      const res = await fetch(url, { credentials: 'same-origin' });
      return [...new Uint8Array(await res.arrayBuffer())];
    }, posted.files[0].url_private_download as string);
    expect(sha(Buffer.from(bytes))).toBe(sha(png));

    // A click shows the full image.
    await img.click();
    const viewer = G.page.getByTestId('image-viewer');
    await viewer.waitFor();
    expect(await viewer.locator('img').getAttribute('src')).toBe(posted.files[0].url_private);
    await G.page.waitForFunction(() => {
      const el = document.querySelector<HTMLImageElement>('[data-testid=image-viewer] img');
      return !!el && el.complete && el.naturalWidth === 900;
    });
    await G.page.screenshot({ path: join(SCREENSHOTS, 'files-viewer.png') });
    await G.page.keyboard.press('Escape');
    await viewer.waitFor({ state: 'detached' });
  });

  it('a text file dropped on the channel and one pasted: cards on the other page, downloads with the same bytes', async () => {
    const notes = 'Meeting notes\nline two: ünïcödé ✓\n';
    const csv = 'a,b\n1,2\n';
    const files = (page: Page, name: string, text: string, type: string) =>
      page.evaluateHandle(
        ({ name, text, type }) => {
          const dt = new DataTransfer();
          dt.items.add(new File([text], name, { type }));
          return dt;
        },
        { name, text, type },
      );
    await A.page.getByTestId('messages').dispatchEvent('drop', { dataTransfer: await files(A.page, 'notes.txt', notes, 'text/plain') });
    const pasted = await files(A.page, 'data.csv', csv, 'text/csv');
    await A.page
      .getByLabel('Message #general', { exact: true })
      .evaluate(
        (el, dt) => el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt as DataTransfer, bubbles: true, cancelable: true })),
        pasted,
      );
    await A.page.locator('[data-testid=upload][data-state=ready]').nth(1).waitFor();
    await A.page.getByRole('button', { name: 'Send' }).click();

    const card = G.page.locator('[data-testid=messages] [data-testid=file]').filter({ hasText: 'notes.txt' });
    await card.waitFor();
    expect(await card.locator('.file-meta').innerText()).toMatch(/^TXT · \d+ B$/);
    const other = G.page.locator('[data-testid=messages] [data-testid=file]').filter({ hasText: 'data.csv' });
    await other.waitFor();
    // One message carries both, in the order they were added.
    const row = G.page
      .locator('[data-testid=messages] [data-testid=message]')
      .filter({ has: G.page.locator('[data-testid=file]').filter({ hasText: 'notes.txt' }) });
    expect(await row.locator('.file-name').allInnerTexts()).toEqual(['notes.txt', 'data.csv']);
    await row.screenshot({ path: join(SCREENSHOTS, 'files-cards.png') });

    const downloading = G.page.waitForEvent('download');
    await card.getByRole('link', { name: 'Download notes.txt' }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toBe('notes.txt');
    expect((await readFile((await download.path())!)).toString('utf8')).toBe(notes);
  });

  it('a file attached in a thread is shared as a reply (thread_ts), shown in the thread on the other page', async () => {
    const parent = message(A.page, 'Here is the chart');
    const parentTs = (await parent.getAttribute('data-ts'))!;
    await parent.hover();
    await parent.getByRole('button', { name: 'Reply in thread' }).click();
    const thread = A.page.getByTestId('thread');
    await thread.waitFor();
    await thread
      .getByTestId('file-input')
      .setInputFiles({ name: 'reply.txt', mimeType: 'text/plain', buffer: Buffer.from('in the thread') });
    await thread.locator('[data-testid=upload][data-state=ready]').waitFor();
    await thread.getByLabel('Reply…').fill('answer with a file');
    await thread.getByLabel('Reply…').press('Enter');
    // The reply counts on the other page, and its thread shows the file.
    const gParent = G.page.locator(`[data-testid=messages] [data-testid=message][data-ts="${parentTs}"]`);
    await gParent.getByRole('button', { name: '1 reply' }).click();
    const card = G.page.getByTestId('thread').locator('[data-testid=file]').filter({ hasText: 'reply.txt' });
    await card.waitFor();
    const replies = (await t.api('conversations.replies', grace.token, { channel: general, ts: parentTs })).body.messages;
    expect(replies.map((m: Record<string, any>) => [m.text, m.files?.map((f: Record<string, unknown>) => f.name)])).toEqual([
      ['Here is the chart', ['chart.png']],
      ['answer with a file', ['reply.txt']],
    ]);
    // Not in the channel itself (a reply not sent to the channel).
    expect(await G.page.locator('[data-testid=messages] [data-testid=file]').filter({ hasText: 'reply.txt' }).count()).toBe(0);
    await A.page.getByRole('button', { name: 'Close thread' }).click();
    await G.page.getByRole('button', { name: 'Close thread' }).click();
  });

  it('a file over the limit is refused with a clear error and nothing is posted', async () => {
    const before = (await history()).length;
    const big = Buffer.alloc(MAX_BYTES + 1, 7);
    await A.page.getByTestId('file-input').setInputFiles({ name: 'huge.bin', mimeType: 'application/octet-stream', buffer: big });
    const failed = A.page.locator('[data-testid=upload][data-state=failed]').filter({ hasText: 'huge.bin' });
    await failed.waitFor();
    expect(await failed.getByRole('alert').innerText()).toBe('This file is larger than the server accepts');
    // Nothing to share: Send stays off without text, and nothing reached the channel.
    expect(await A.page.getByRole('button', { name: 'Send' }).isDisabled()).toBe(true);
    await A.page.getByTestId('composer').screenshot({ path: join(SCREENSHOTS, 'files-too-large.png') });
    await failed.getByRole('button', { name: 'Remove huge.bin' }).click();
    expect(await A.page.getByTestId('upload').count()).toBe(0);
    expect((await history()).length).toBe(before);
  });

  it('in an EKM workspace a file shows with its name hidden, and still downloads with its bytes and name', async () => {
    const ws = await t.newWorkspace('Vault');
    const ekm = (method: string, path: string, body?: unknown) => t.admin(method, `/workspaces/${ws}/ekm${path}`, body);
    const enabled = await ekm('POST', '', { provider: 'local' });
    expect(enabled.status).toBe(202);
    await waitFor(async () => (await ekm('GET', `/runs/${enabled.body.run.id}`)).body.status === 'done', 20_000, 'EKM run');
    const ann = await t.newUser(ws, 'member', 'ann');
    const bob = await t.newUser(ws, 'member', 'bob');
    const vault = await t.newChannel(ann, 'vault', false, [bob]);
    const [N, B] = await Promise.all([signedIn(browser, t, base, ann), signedIn(browser, t, base, bob)]);
    try {
      await Promise.all([openChannel(N.page, vault), openChannel(B.page, vault)]);
      const secret = 'sealed contents 4711\n';
      await N.page.getByTestId('file-input').setInputFiles({ name: 'payroll.txt', mimeType: 'text/plain', buffer: Buffer.from(secret) });
      await N.page.locator('[data-testid=upload][data-state=ready]').waitFor();
      await N.page.getByRole('button', { name: 'Send' }).click();
      const card = B.page.locator('[data-testid=messages] [data-testid=file]');
      await card.waitFor();
      expect(await card.locator('.file-name').innerText()).toBe('Encrypted file (name hidden)');
      expect(await card.innerText()).not.toContain('payroll');
      await card.screenshot({ path: join(SCREENSHOTS, 'files-ekm.png') });
      const downloading = B.page.waitForEvent('download');
      await card.getByRole('link', { name: 'Download file' }).click();
      const download = await downloading;
      expect(download.suggestedFilename()).toBe('payroll.txt');
      expect((await readFile((await download.path())!)).toString('utf8')).toBe(secret);
    } finally {
      await N.context.close();
      await B.context.close();
    }
  });
});
