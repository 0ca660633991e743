// One cell of the table, run in its own process so that cells cannot disturb each other (JIT and GC
// state, connection pools, and the global pg type parsers Emmett's driver installs).
import pg from 'pg';
import { backendPids, type CpuPerEvent, type CpuSample, cpuSupported, perEvent, sample } from './cpu.js';
import { closedLoop, openLoop, type ClosedLoopResult, type OpenLoopResult } from './load.js';
import type { BenchData } from './setup.js';
import type { Variant } from './variants.js';
import { type HttpClient, workload } from './workloads.js';

export interface CellSpec {
  variant: Variant;
  data: BenchData;
  clients: number;
  channels: number;
  warmupMs: number;
  measureMs: number;
  appUrl?: string;
  appPid?: number;
  httpClient?: HttpClient;
  namedBaseline?: boolean;
  /** Also measure latency, open loop at `fraction` of the closed-loop peak just measured. */
  latency?: { fraction: number; warmupMs: number; measureMs: number };
}

export interface CellResult {
  throughput: ClosedLoopResult;
  latency?: OpenLoopResult;
  /** CPU time per event of the measured window, by process (Linux only). */
  cpu?: CpuPerEvent;
}

export async function runCell(spec: CellSpec): Promise<CellResult> {
  const w = await workload(spec.variant, spec);
  try {
    const meter = cpuSupported ? await cpuMeter(spec) : undefined;
    const throughput = await closedLoop(spec.clients, w.op, spec.warmupMs, spec.measureMs, meter);
    const cpu = meter?.perEvent();
    let latency: OpenLoopResult | undefined;
    if (spec.latency && throughput.rate > 0) {
      const { fraction, warmupMs, measureMs } = spec.latency;
      latency = await openLoop(throughput.rate * fraction, w.op, spec.clients, warmupMs, measureMs);
    }
    return { throughput, latency, cpu };
  } finally {
    await w.close();
  }
}

/**
 * Samples CPU over the measured window: this process, the app, the cell's backends. The backends
 * are listed halfway through the warm-up (every connection is open by then); if that answer comes
 * late on a busy box, the window starts when it arrives. Per event = CPU / calls completed between
 * the two samples.
 */
async function cpuMeter(spec: CellSpec) {
  const db = new pg.Client({ connectionString: spec.data.url });
  await db.connect();
  let pids: number[] | undefined;
  let first: { at: number; cpu: CpuSample } | undefined;
  let last: { at: number; cpu: CpuSample } | undefined;
  let begin: (() => void) | undefined;
  const listed = setTimeout(() => {
    backendPids(db)
      .then((p) => {
        pids = p;
        begin?.();
      })
      .catch(() => {})
      .finally(() => db.end());
  }, spec.warmupMs / 2);
  return {
    start: (completed: () => number) => {
      begin = () => (first = { at: completed(), cpu: sample(spec.appPid, pids!) });
      if (pids) begin();
    },
    end: (completed: () => number) => {
      begin = undefined;
      if (first) last = { at: completed(), cpu: sample(spec.appPid, pids!) };
    },
    perEvent: () => {
      clearTimeout(listed);
      if (!pids) void db.end().catch(() => {});
      return first && last ? perEvent(first.cpu, last.cpu, last.at - first.at, spec.appPid !== undefined) : undefined;
    },
  };
}

if (process.send) {
  process.once('disconnect', () => process.exit(1)); // the benchmark is gone: stop loading the database
  process.once('message', (spec: CellSpec) => {
    runCell(spec).then(
      (result) => process.send!({ result }, () => process.exit(0)),
      (err: unknown) => process.send!({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) }, () => process.exit(1)),
    );
  });
}
