import { readFileSync } from 'node:fs';
import pg from 'pg';
import { backendPids, cpuSupported } from '../append/cpu.js';

// Every statement any pg client of this process sends is counted (the services run here), and with
// `statementTexts` also by text: round trips per item, seen from the driver.
let statements = 0;
let texts: Map<string, number> | undefined;
const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  statements++;
  if (texts) {
    const first = args[0] as string | { text?: string } | undefined;
    const text = (typeof first === 'string' ? first : (first?.text ?? '?')).replace(/\s+/g, ' ').trim().slice(0, 110);
    texts.set(text, (texts.get(text) ?? 0) + 1);
  }
  return query.apply(this, args);
} as typeof pg.Client.prototype.query;

/** Also count statements by their text (printed per row with --statements). */
export function countStatementTexts(): void {
  texts ??= new Map();
}

/** One timed piece of work: how many items it handled, in how long, and whose CPU it used. */
export interface Measured {
  items: number;
  ms: number;
  /** Per second. */
  rate: number;
  /** CPU of this Node process (the services run in it) per item, user + system, microseconds. */
  nodeUsPerItem: number;
  /** CPU of the database's backends per item, microseconds (Linux /proc; NaN elsewhere). */
  dbUsPerItem: number;
  /** Their run-queue wait per item: large against dbUsPerItem means the cores were oversubscribed. */
  dbWaitUsPerItem: number;
  /** SQL statements this process sent per item. */
  statementsPerItem: number;
  /** By text, when countStatementTexts() was called. */
  statements?: Array<[text: string, count: number]>;
}

/**
 * Times `work`, which returns how many items it handled. `db` is a connection outside the work
 * used to find the other backends of the benchmark database, whose CPU is read from /proc: a rate
 * moves with every other process on a shared box, CPU per item much less.
 */
export async function measure(db: pg.Client, work: () => Promise<number>): Promise<Measured> {
  const before = backendTimes(await backendPids(db));
  const textsBefore = new Map(texts);
  const statementsBefore = statements;
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const items = await work();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const used = process.cpuUsage(cpu);
  const sent = statements - statementsBefore;
  const byText = texts && [...texts].map(([t, n]): [string, number] => [t, n - (textsBefore.get(t) ?? 0)]).filter(([, n]) => n > 0);
  // Per backend: one that connected during the work started from zero; one that closed meanwhile is lost.
  const after = backendTimes(await backendPids(db));
  let runNs = 0;
  let waitNs = 0;
  for (const [pid, t] of after) {
    runNs += t.runNs - (before.get(pid)?.runNs ?? 0);
    waitNs += t.waitNs - (before.get(pid)?.waitNs ?? 0);
  }
  const perItem = (us: number) => (items && cpuSupported ? us / items : NaN);
  return {
    items,
    ms,
    rate: items / (ms / 1000),
    nodeUsPerItem: items ? (used.user + used.system) / items : NaN,
    dbUsPerItem: perItem(runNs / 1000),
    dbWaitUsPerItem: perItem(waitNs / 1000),
    statementsPerItem: items ? sent / items : NaN,
    statements: byText?.sort((a, b) => b[1] - a[1]),
  };
}

/** Runs `work` over `items` with at most `concurrency` in flight, taking them in list order. */
export async function eachConcurrently<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
}

/** /proc/<pid>/schedstat of each backend (PostgreSQL backends are single-threaded): on CPU, waiting to run. */
function backendTimes(pids: number[]): Map<number, { runNs: number; waitNs: number }> {
  const out = new Map<number, { runNs: number; waitNs: number }>();
  for (const pid of pids) {
    try {
      const [runNs, waitNs] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ').map(Number);
      out.set(pid, { runNs, waitNs });
    } catch {
      // the backend ended in between
    }
  }
  return out;
}
