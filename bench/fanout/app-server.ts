// The real app for bench:fanout in its own process. Answers {rss: true} with its resident set size
// measured after a full garbage collection (run with --expose-gc), so per-connection memory is
// not blurred by garbage that has not been collected yet. Between {window: 'start'} and
// {window: 'stop'} it measures its event-loop delay (how long a ready callback waited: the stalls
// every socket and every post ack feel), counts the SQL statements it sends, and, when given a
// file, takes a V8 CPU profile of just that window.
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pg from 'pg';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { collectedRss } from './rss.js';

export type WindowCommand = { window: 'start'; profile?: string } | { window: 'stop' };
export interface WindowReport {
  /** Event-loop delay over the window, ms. */
  loop: { p50: number; p99: number; max: number };
  /** SQL statements sent in the window, by their first 80 characters. */
  statements: Record<string, number>;
  profile?: string;
}

let statements: Map<string, number> | undefined;
const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  if (statements) {
    const first = args[0] as string | { text?: string } | undefined;
    const text = (typeof first === 'string' ? first : (first?.text ?? '?')).replace(/\s+/g, ' ').trim().slice(0, 80);
    statements.set(text, (statements.get(text) ?? 0) + 1);
  }
  return query.apply(this, args);
} as typeof pg.Client.prototype.query;

const app = await createApp(loadConfig());
await app.listen(0, '127.0.0.1');
const { port } = app.getHttpServer().address() as { port: number };
process.send!({ port });

const delay = monitorEventLoopDelay({ resolution: 5 });
let inspector: Session | undefined;
let profileFile: string | undefined;

async function window(cmd: WindowCommand): Promise<void> {
  if (cmd.window === 'start') {
    statements = new Map();
    delay.reset();
    delay.enable();
    profileFile = cmd.profile;
    if (profileFile) {
      inspector = new Session();
      inspector.connect();
      await inspector.post('Profiler.enable');
      await inspector.post('Profiler.start');
    }
    process.send!({ window: 'started' });
    return;
  }
  delay.disable();
  const ms = (ns: number) => ns / 1e6;
  const report: WindowReport = {
    loop: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) },
    statements: Object.fromEntries(statements ?? []),
  };
  statements = undefined;
  if (inspector && profileFile) {
    const { profile } = await inspector.post('Profiler.stop');
    writeFileSync(profileFile, JSON.stringify(profile));
    inspector.disconnect();
    inspector = undefined;
    report.profile = profileFile;
  }
  process.send!({ window: 'stopped', report });
}

process.on('message', (msg: { rss?: boolean; stop?: boolean } & Partial<WindowCommand>) => {
  if (msg.rss) process.send!({ rss: collectedRss() });
  if (msg.window) void window(msg as WindowCommand);
  if (msg.stop) void app.close().finally(() => process.exit(0));
});
