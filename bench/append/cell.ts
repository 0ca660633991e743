// One cell of the table, run in its own process so that cells cannot disturb each other (JIT and GC
// state, connection pools, and the global pg type parsers Emmett's driver installs).
import pg from 'pg';
import { backendPids, type CpuPerEvent, type CpuSample, cpuSupported, perEvent, sample } from './cpu.js';
import { closedLoop, openLoop, type ClosedLoopResult, type OpenLoopResult, type Operation, summarize, warmUp } from './load.js';
import { type BenchData, consumersCaughtUp, databaseNow } from './setup.js';
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
  /**
   * (c), (e), (g): calls to the fresh server before the cell's own warm-up (load.ts warmUp), so that
   * the window measures its steady state rather than V8 still optimising it.
   */
  serverWarmupCalls?: number;
  /** (e) only: the bare route's server answering without a database (workloads.ts). */
  noDatabase?: boolean;
  /** Also measure latency, open loop at `fraction` of the closed-loop peak just measured. */
  latency?: { fraction: number; warmupMs: number; measureMs: number };
  /**
   * A single post at low load instead of the closed loop: after `warmupMs` of one closed-loop client
   * (JIT, pools, caches), one client posts on a fixed schedule at `rate` per second (one post at a
   * time when each takes less than the spacing): `spacedWarmupMs` unmeasured, then `measureMs`.
   * `consumers`: the app runs the log's consumers; the spaced run starts once they have applied the
   * warm-up's posts (a backlog is not low load).
   */
  spaced?: { rate: number; spacedWarmupMs: number; consumers?: boolean };
}

export interface CellResult {
  throughput: ClosedLoopResult;
  latency?: OpenLoopResult;
  /** CPU time per event of the measured window, by process (Linux only). */
  cpu?: CpuPerEvent;
  /** How long the server warm-up (serverWarmupCalls) took. */
  serverWarmupMs?: number;
}

export async function runCell(spec: CellSpec): Promise<CellResult> {
  const w = await workload(spec.variant, spec);
  try {
    if (spec.spaced) return await spacedCell(spec, spec.spaced, w.op);
    const serverWarmupMs = spec.serverWarmupCalls ? await warmUp(spec.clients, w.op, spec.serverWarmupCalls) : undefined;
    const meter = cpuSupported ? await cpuMeter(spec) : undefined;
    const throughput = await closedLoop(spec.clients, w.op, spec.warmupMs, spec.measureMs, meter);
    const cpu = meter?.perEvent();
    let latency: OpenLoopResult | undefined;
    if (spec.latency && throughput.rate > 0) {
      const { fraction, warmupMs, measureMs } = spec.latency;
      latency = await openLoop(throughput.rate * fraction, w.op, spec.clients, warmupMs, measureMs);
    }
    return { throughput, latency, cpu, serverWarmupMs };
  } finally {
    await w.close();
  }
}

async function spacedCell(
  spec: CellSpec,
  { rate, spacedWarmupMs, consumers }: NonNullable<CellSpec['spaced']>,
  op: Operation,
): Promise<CellResult> {
  const since = consumers ? await databaseNow(spec.data.url) : undefined;
  await closedLoop(1, op, spec.warmupMs, 0);
  if (since && !(await consumersCaughtUp(spec.data.url, since, 30_000)))
    throw new Error("the app's consumers did not catch up with the warm-up within 30 s");
  const meter = cpuSupported ? await cpuMeter({ ...spec, warmupMs: spacedWarmupMs }) : undefined;
  const latency = await openLoop(rate, op, 1, spacedWarmupMs, spec.measureMs, { window: meter, from: 'call', keepLatencies: true });
  const throughput = { rate: latency.achievedRate, ok: latency.samples, failed: latency.failed, seconds: spec.measureMs / 1000 };
  return { throughput, latency, cpu: meter?.perEvent() };
}

/**
 * One result from spaced runs of the same variant (rounds of a low-load run): every latency pooled,
 * CPU per event weighted by the posts of each run.
 */
export function mergeRuns(runs: CellResult[]): CellResult {
  const latencies = runs.flatMap((r) => r.latency?.latencies ?? []).sort((x, y) => x - y);
  const seconds = runs.reduce((t, r) => t + r.throughput.seconds, 0);
  const failed = runs.reduce((t, r) => t + r.throughput.failed, 0);
  const latency = summarize(latencies, runs[0].latency?.targetRate ?? NaN, seconds, failed);
  const measured = runs.filter((r) => r.cpu);
  const posts = measured.reduce((t, r) => t + r.throughput.ok, 0);
  const mean = (f: (c: CpuPerEvent) => number | undefined) =>
    measured.some((r) => f(r.cpu!) === undefined) ? undefined : measured.reduce((t, r) => t + f(r.cpu!)! * r.throughput.ok, 0) / posts;
  const cpu: CpuPerEvent | undefined = posts
    ? {
        clientUs: mean((c) => c.clientUs)!,
        appUs: mean((c) => c.appUs),
        appMainUs: mean((c) => c.appMainUs),
        dbUs: mean((c) => c.dbUs)!,
        dbWaitUs: mean((c) => c.dbWaitUs)!,
        appBusy: mean((c) => c.appBusy),
      }
    : undefined;
  return { throughput: { rate: latency.achievedRate, ok: latency.samples, failed, seconds }, latency, cpu };
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
