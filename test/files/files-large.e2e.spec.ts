import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startS3Server, type S3Server } from '../support/s3-server.js';
import { TestApp, type TestUser } from '../support/test-app.js';

const SIZE = 200 * 1024 * 1024;
const RSS_BUDGET = 150 * 1024 * 1024;
const CLIENT = fileURLToPath(new URL('../support/stream-client.mjs', import.meta.url));

/** Runs the streaming HTTP client in a child process (its buffers are not the app's memory). */
async function client(...args: string[]): Promise<{ status: number; bytes: number; sha256: string; body?: string }> {
  const child = spawn(process.execPath, [CLIENT, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`stream client exited with ${code}`);
  return JSON.parse(out);
}

/** The highest RSS of this process (where the app runs) while `work` runs, sampled every 20 ms. */
async function peakRss<T>(work: () => Promise<T>): Promise<{ result: T; peak: number }> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  try {
    const result = await work();
    return { result, peak: Math.max(peak, process.memoryUsage.rss()) };
  } finally {
    clearInterval(timer);
  }
}

// The app runs in this process, so its RSS is what is measured; the HTTP client and the S3 server run in children.
describe.each(['local', 's3'] as const)('a 200 MB file through the app, %s storage: streamed both ways', (backend) => {
  let t: TestApp;
  let s3: S3Server | undefined;
  let dir: string;
  let ada: TestUser;
  let channel: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'atomcast-files-large-'));
    s3 = backend === 's3' ? await startS3Server() : undefined;
    t = await TestApp.start({ FILES_DIR: dir, FILES_MAX_BYTES: String(SIZE), ...(s3?.env ?? {}) });
    const ws = await t.newWorkspace();
    ada = await t.newUser(ws);
    channel = await t.newChannel(ada, 'big');
  });
  afterAll(async () => {
    await t.close();
    await s3?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('uploads and downloads 200 MB with RSS growing less than 150 MB', async () => {
    const before = process.memoryUsage.rss();
    const asked = await t.api('files.getUploadURLExternal', ada.token, { filename: 'big.bin', length: SIZE });
    const up = await peakRss(() => client('upload', asked.body.upload_url, String(SIZE)));
    expect(up.result).toMatchObject({ status: 200, bytes: SIZE, body: `OK - ${SIZE}` });
    const done = await t.api('files.completeUploadExternal', ada.token, {
      files: JSON.stringify([{ id: asked.body.file_id }]),
      channel_id: channel,
    });
    expect(done.body.files[0].size).toBe(SIZE);

    const url = `${t.url}${new URL(done.body.files[0].url_private_download).pathname}`;
    const down = await peakRss(() => client('download', url, ada.token));
    expect(down.result).toEqual({ status: 200, bytes: SIZE, sha256: up.result.sha256 });
    expect(up.peak - before).toBeLessThan(RSS_BUDGET);
    expect(down.peak - before).toBeLessThan(RSS_BUDGET);
  }, 240_000);
});
