import { readdirSync, readFileSync } from 'node:fs';
import type pg from 'pg';

// CPU time per event, split by process: unlike a rate, it barely moves when other work shares the
// cores, so it says where an append's cost goes even on a busy box. Linux only (/proc); elsewhere
// the figures are simply absent.

export interface CpuSample {
  atNs: number;
  client: Times;
  app: Times;
  appMain: Times;
  db: Times;
}

/** Nanoseconds on a CPU and waiting in the run queue (the latter is what contention costs). */
export interface Times {
  runNs: number;
  waitNs: number;
}

export interface CpuPerEvent {
  clientUs: number;
  appUs?: number;
  /** The app's main (JavaScript) thread alone: appUs less GC helpers, libuv's pool and other threads. */
  appMainUs?: number;
  dbUs: number;
  /** Run-queue wait of the database backends per event: high means the cores were oversubscribed. */
  dbWaitUs: number;
  /**
   * Share of the window the app's main (JavaScript) thread was running or waiting for a core:
   * near 1, that one thread is what limits (c).
   */
  appBusy?: number;
}

/** Sums /proc/<pid>/task/<tid>/schedstat over every thread of the given processes. */
export function times(pids: number[]): Times {
  let runNs = 0;
  let waitNs = 0;
  for (const pid of pids) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const [run, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ').map(Number);
        runNs += run;
        waitNs += wait;
      } catch {
        // the thread ended in between
      }
    }
  }
  return { runNs, waitNs };
}

export const cpuSupported = (() => {
  try {
    readFileSync(`/proc/${process.pid}/schedstat`);
    return true;
  } catch {
    return false;
  }
})();

/** The server processes of every other connection to this database: the benchmark's backends. */
export async function backendPids(db: pg.Client): Promise<number[]> {
  const { rows } = await db.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
  );
  return rows.map((r) => r.pid);
}

/** The main thread of a process alone (the one running JavaScript in a Node process). */
export function mainThread(pid: number): Times {
  try {
    const [runNs, waitNs] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ').map(Number);
    return { runNs, waitNs };
  } catch {
    return { runNs: 0, waitNs: 0 };
  }
}

/** The child processes of `pid` (the workers of a node:cluster primary). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .flatMap((d) => {
      try {
        // After the parenthesised command name: state, then the parent's pid.
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid ? [Number(d)] : [];
      } catch {
        return []; // gone meanwhile
      }
    });
}

/**
 * The app is the process and its children (a cluster's workers). Its JavaScript thread is the
 * process's own main thread, or the workers' main threads averaged: the share of the window each was busy.
 */
function appTimes(appPid: number): { app: Times; appMain: Times } {
  const workers = childrenOf(appPid);
  const mains = (workers.length ? workers : [appPid]).map(mainThread);
  const n = mains.length;
  return {
    app: times([appPid, ...workers]),
    appMain: { runNs: mains.reduce((t, m) => t + m.runNs, 0) / n, waitNs: mains.reduce((t, m) => t + m.waitNs, 0) / n },
  };
}

export function sample(appPid: number | undefined, dbPids: number[]): CpuSample {
  const none = { runNs: 0, waitNs: 0 };
  return {
    atNs: Number(process.hrtime.bigint()),
    client: times([process.pid]),
    ...(appPid ? appTimes(appPid) : { app: none, appMain: none }),
    db: times(dbPids),
  };
}

export function perEvent(start: CpuSample, end: CpuSample, events: number, withApp: boolean): CpuPerEvent | undefined {
  if (!events) return undefined;
  const us = (a: number, b: number) => (b - a) / 1000 / events;
  return {
    clientUs: us(start.client.runNs, end.client.runNs),
    appUs: withApp ? us(start.app.runNs, end.app.runNs) : undefined,
    appMainUs: withApp ? us(start.appMain.runNs, end.appMain.runNs) : undefined,
    dbUs: us(start.db.runNs, end.db.runNs),
    dbWaitUs: us(start.db.waitNs, end.db.waitNs),
    appBusy: withApp
      ? (end.appMain.runNs + end.appMain.waitNs - start.appMain.runNs - start.appMain.waitNs) / (end.atNs - start.atNs)
      : undefined,
  };
}
