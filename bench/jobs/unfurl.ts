import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { Agent, request } from 'undici';
import { PG_POOL } from '../../src/db/database.module.js';
import { buildAttachment } from '../../src/jobs/unfurl/preview.js';
import { safeFetch } from '../../src/jobs/unfurl/safe-fetch.js';
import { UNFURL_OPTIONS, type UnfurlOptions, UnfurlService } from '../../src/jobs/unfurl/unfurl.service.js';
import type { JobsApp } from './app.js';
import { eachConcurrently, type Measured, measure } from './measure.js';
import type { SeededWorkspace } from './seed.js';

/** The unfurl worker's concurrency (JobWorkers starts the unfurl queue with 4). */
export const UNFURL_CONCURRENCY = 4;

export interface PageServer {
  origin: string;
  bytes: number;
  stop(): Promise<void>;
}

const PAGE_SERVER = fileURLToPath(new URL('./page-server.js', import.meta.url));

/** The linked site, in a child process on 127.0.0.1. */
export function startPageServer(children: Set<ChildProcess>): Promise<PageServer> {
  const child = fork(PAGE_SERVER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.send({ stop: true });
    });
  return new Promise((resolve, reject) => {
    child.once('message', (msg: { port: number; bytes: number }) =>
      resolve({ origin: `http://127.0.0.1:${msg.port}`, bytes: msg.bytes, stop }),
    );
    child.once('exit', (code) => reject(new Error(`page server exited with ${code} during start-up`)));
  });
}

/** One link per message, each to its own path of the same page (as links to one site's articles). */
export const linkText = (origin: string) => (i: number) => `have a look at ${origin}/posts/${i} before the review`;

/** The workspace's messages in the order they were posted, as the dispatcher would queue them. */
async function postedMessages(app: JobsApp, ws: SeededWorkspace): Promise<Array<{ channel: string; seq: number }>> {
  const { rows } = await app.context
    .get<symbol, pg.Pool>(PG_POOL)
    .query<{ channel_id: string; seq: string }>(
      'SELECT m.channel_id, m.seq FROM messages m JOIN channels c ON c.id = m.channel_id WHERE c.workspace_id = $1 ORDER BY m.ts, m.channel_id',
      [ws.workspace],
    );
  return rows.map((r) => ({ channel: r.channel_id, seq: Number(r.seq) }));
}

/** Ours: `UnfurlService.unfurlMessage` for every message, 4 at a time; every one must unfurl. */
export async function unfurlWithService(app: JobsApp, ws: SeededWorkspace): Promise<Measured> {
  const unfurl = app.context.get(UnfurlService);
  const messages = await postedMessages(app, ws);
  const outcomes = new Map<string, number>();
  const result = await measure(app.monitor, async () => {
    await eachConcurrently(messages, UNFURL_CONCURRENCY, async (m) => {
      const { status } = await unfurl.unfurlMessage(m.channel, m.seq);
      outcomes.set(status, (outcomes.get(status) ?? 0) + 1);
    });
    return outcomes.get('unfurled') ?? 0;
  });
  if (result.items !== ws.count)
    throw new Error(`unfurled ${result.items} of ${ws.count}: ${JSON.stringify(Object.fromEntries(outcomes))}`);
  return result;
}

/**
 * The baseline: plain GETs of the same URLs, 4 at a time, the body read, through undici (the
 * client the unfurler itself uses) with keep-alive connections. Node's global fetch was slower
 * than the unfurler on this page (~2 ms of CPU per GET), so it would flatter the ratio.
 */
export async function getRaw(app: JobsApp, site: PageServer, count: number): Promise<Measured> {
  const urls = Array.from({ length: count }, (_, i) => `${site.origin}/posts/${i}`);
  const agent = new Agent({ connections: UNFURL_CONCURRENCY });
  try {
    return await measure(app.monitor, async () => {
      let ok = 0;
      await eachConcurrently(urls, UNFURL_CONCURRENCY, async (url) => {
        const res = await request(url, { dispatcher: agent });
        if ((await res.body.text()).length > 0 && res.statusCode === 200) ok++;
      });
      return ok;
    });
  } finally {
    await agent.close();
  }
}

/**
 * Where ours spends its time, for context: the unfurler's own fetch (address vetting, a fresh
 * pinned connection per page, size cap), then that fetch plus the OpenGraph parse, neither
 * touching the database.
 */
export async function fetchParts(app: JobsApp, site: PageServer, count: number, parse: boolean): Promise<Measured> {
  const options = app.context.get<symbol, UnfurlOptions>(UNFURL_OPTIONS, { strict: false });
  const urls = Array.from({ length: count }, (_, i) => `${site.origin}/posts/${i}`);
  return measure(app.monitor, async () => {
    let ok = 0;
    await eachConcurrently(urls, UNFURL_CONCURRENCY, async (url) => {
      const page = await safeFetch(url, options);
      if (!parse || (await buildAttachment(url, page, 1))?.title) ok++;
    });
    return ok;
  });
}

/** Untimed GETs and parses first, so that the first timed row does not pay for the JIT alone. */
export async function warmUpUnfurl(app: JobsApp, site: PageServer, count: number): Promise<void> {
  await getRaw(app, site, count);
  await fetchParts(app, site, count, true);
}
