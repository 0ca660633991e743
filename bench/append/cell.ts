// One cell of the table, run in its own process so that cells cannot disturb each other (JIT and GC
// state, connection pools, and the global pg type parsers Emmett's driver installs).
import { closedLoop, openLoop, type ClosedLoopResult, type OpenLoopResult } from './load.js';
import type { BenchData } from './setup.js';
import { type HttpClient, type Variant, workload } from './workloads.js';

export interface CellSpec {
  variant: Variant;
  data: BenchData;
  clients: number;
  channels: number;
  warmupMs: number;
  measureMs: number;
  appUrl?: string;
  httpClient?: HttpClient;
  /** Also measure latency, open loop at `fraction` of the closed-loop peak just measured. */
  latency?: { fraction: number; warmupMs: number; measureMs: number };
}

export interface CellResult {
  throughput: ClosedLoopResult;
  latency?: OpenLoopResult;
}

export async function runCell(spec: CellSpec): Promise<CellResult> {
  const w = await workload(spec.variant, spec);
  try {
    const throughput = await closedLoop(spec.clients, w.op, spec.warmupMs, spec.measureMs);
    let latency: OpenLoopResult | undefined;
    if (spec.latency && throughput.rate > 0) {
      const { fraction, warmupMs, measureMs } = spec.latency;
      latency = await openLoop(throughput.rate * fraction, w.op, spec.clients, warmupMs, measureMs);
    }
    return { throughput, latency };
  } finally {
    await w.close();
  }
}

if (process.send) {
  process.once('message', (spec: CellSpec) => {
    runCell(spec).then(
      (result) => process.send!({ result }, () => process.exit(0)),
      (err: unknown) => process.send!({ error: err instanceof Error ? err.stack ?? err.message : String(err) }, () => process.exit(1)),
    );
  });
}
