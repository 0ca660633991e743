import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import cliProgress from 'cli-progress';
import type { Config } from '../config/config.js';
import { parseTs } from '../domain/ts.js';
import { parseCursor, START } from '../event-store/events.js';
import { ReplayRepository } from '../replay/replay.repository.js';
import { type ReplayFilter, type ReplayPage, ReplayService } from '../replay/replay.service.js';
import { createCliContext } from './cli.module.js';

export interface ReplayOptions {
  channel?: string;
  workspace?: string;
  types?: string;
  since?: string;
  until?: string;
  /** A seq with --channel, else a global cursor "<tx_id>-<position>". */
  after?: string;
  cursorFile?: string;
  limit?: number;
}

export class UsageError extends Error {}

/** `npm run replay` as a whole: the application context (with the EKM body cipher), the replay, the context closed. */
export async function replayCommand(
  config: Config,
  opts: ReplayOptions,
  out: Writable,
  err: Writable & { isTTY?: boolean },
): Promise<{ events: number; resume: string }> {
  const app = await createCliContext(config);
  try {
    return await runReplay(app.get(ReplayService), app.get(ReplayRepository), opts, out, err);
  } finally {
    await app.close();
  }
}

/**
 * The replay: NDJSON on `out`, a progress bar on `err` when it is a TTY, and the position to
 * resume from at the end (on `err`, and in --cursor-file, which is also read at start).
 */
export async function runReplay(
  replay: ReplayService,
  repo: ReplayRepository,
  opts: ReplayOptions,
  out: Writable,
  err: Writable & { isTTY?: boolean },
): Promise<{ events: number; resume: string }> {
  const filter: ReplayFilter = {
    types: opts.types
      ? new Set(
          opts.types
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        )
      : undefined,
    oldest: opts.since === undefined ? undefined : toMicros(opts.since, '--since'),
    latest: opts.until === undefined ? undefined : toMicros(opts.until, '--until'),
  };
  let after = opts.after;
  if (after === undefined && opts.cursorFile && existsSync(opts.cursorFile))
    after = readFileSync(opts.cursorFile, 'utf8').trim() || undefined;

  let pages: AsyncGenerator<ReplayPage>;
  let total: number;
  let resume: string;
  if (opts.channel) {
    if (after !== undefined && !/^\d{1,18}$/.test(after)) throw new UsageError('with --channel, --after is a seq');
    const afterSeq = Number(after ?? 0);
    resume = String(afterSeq);
    total = Math.max(0, (await repo.headSeq(opts.channel)) - afterSeq);
    pages = replay.channel(opts.channel, afterSeq, { limit: opts.limit, filter });
  } else {
    const cursor = after === undefined ? START : parseCursor(after);
    if (!cursor) throw new UsageError('--after is a global cursor like 1234-56 (or a seq with --channel)');
    resume = after ?? '0-0';
    total = await repo.countAfter(cursor, opts.workspace);
    pages = replay.global(cursor, { workspace: opts.workspace, limit: opts.limit, filter });
  }

  const bar = err.isTTY
    ? new cliProgress.SingleBar(
        { stream: err, format: 'replay |{bar}| {value}/{total} read | {kept} written | {eta_formatted} left', hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(opts.limit ? Math.min(total, opts.limit) : total, 0, { kept: 0 });
  let read = 0;
  let events = 0;
  try {
    for await (const page of pages) {
      if (page.kept && !out.write(page.ndjson)) await drained(out);
      read += page.read;
      events += page.kept;
      resume = page.resume;
      bar?.update(read, { kept: events });
      if (opts.cursorFile) writeFileSync(opts.cursorFile, `${resume}\n`);
    }
  } finally {
    bar?.stop();
  }
  err.write(`replay: ${events} events written; resume with --after ${resume}\n`);
  return { events, resume };
}

function drained(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (e?: Error) => {
      out.off('drain', done);
      out.off('error', done);
      if (e) reject(e);
      else resolve();
    };
    out.once('drain', () => done());
    out.once('error', done);
  });
}

/** A Slack ts ("1700000000.000100") or an ISO date. */
function toMicros(value: string, flag: string): bigint {
  const ts = parseTs(value);
  if (ts !== undefined) return ts;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new UsageError(`${flag} takes a Slack ts or an ISO date`);
  return BigInt(ms) * 1000n;
}
