import { readdirSync, readFileSync } from 'node:fs';
import type pg from 'pg';

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
}

/**
 * Times `work`, which returns how many items it handled. `db` is a connection outside the work
 * used to find the other backends of the benchmark database, whose CPU is read from /proc: a rate
 * moves with every other process on a shared box, CPU per item much less.
 */
export async function measure(db: pg.Client, work: () => Promise<number>): Promise<Measured> {
  const before = backendCpu(await backendPids(db));
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const items = await work();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const used = process.cpuUsage(cpu);
  // Backends that connected during the work started from zero; ones that closed meanwhile are lost.
  const after = backendCpu(await backendPids(db));
  let dbNs = 0;
  for (const [pid, ns] of after) dbNs += ns - (before.get(pid) ?? 0);
  return {
    items,
    ms,
    rate: items / (ms / 1000),
    nodeUsPerItem: items ? (used.user + used.system) / items : NaN,
    dbUsPerItem: items && cpuReadable ? dbNs / 1000 / items : NaN,
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

const cpuReadable = (() => {
  try {
    readFileSync(`/proc/${process.pid}/schedstat`);
    return true;
  } catch {
    return false;
  }
})();

async function backendPids(db: pg.Client): Promise<number[]> {
  if (!cpuReadable) return [];
  const { rows } = await db.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
  );
  return rows.map((r) => r.pid);
}

/** Nanoseconds on a CPU per backend process, from /proc/<pid>/schedstat (PostgreSQL backends are single-threaded). */
function backendCpu(pids: number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    try {
      out.set(pid, Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]));
    } catch {
      // the backend ended in between
    }
  }
  return out;
}
