import { performance } from 'node:perf_hooks';

/** One call of the system under test; resolves false (or throws) when it did not append. */
export type Operation = (client: number) => Promise<boolean>;

export interface ClosedLoopResult {
  rate: number; // successful operations per second inside the measured window
  ok: number;
  failed: number;
  seconds: number;
}

/**
 * `clients` callers each issue the next operation as soon as the previous one returns (closed loop,
 * the throughput test). Operations that complete during the warm-up are not counted.
 */
export async function closedLoop(
  clients: number,
  op: Operation,
  warmupMs: number,
  measureMs: number,
  window?: { start(completed: () => number): unknown; end(completed: () => number): unknown },
): Promise<ClosedLoopResult> {
  const start = performance.now();
  const from = start + warmupMs;
  const until = from + measureMs;
  let completed = 0;
  const count = () => completed;
  let ended = false;
  const end = () => {
    if (!ended) window?.end(count);
    ended = true;
  };
  const opened = setTimeout(() => window?.start(count), warmupMs);
  const closed = setTimeout(end, warmupMs + measureMs);
  let ok = 0;
  let failed = 0;
  const client = async (i: number) => {
    while (performance.now() < until) {
      let good: boolean;
      try {
        good = await op(i);
      } catch {
        good = false;
      }
      completed++;
      const now = performance.now();
      if (now < from || now > until) continue;
      if (good) ok++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, i) => client(i)));
  clearTimeout(opened);
  clearTimeout(closed);
  end(); // the last call can return just before the timer fires
  const seconds = measureMs / 1000;
  return { rate: ok / seconds, ok, failed, seconds };
}

export interface OpenLoopResult {
  targetRate: number;
  achievedRate: number;
  p50: number; // milliseconds
  p99: number;
  max: number;
  failed: number;
  samples: number;
}

/**
 * Open loop (the latency test): operations start on a fixed schedule at `rate` per second whether
 * or not earlier ones returned; latency runs from the scheduled start, so a stall in the server or
 * the client shows up in the percentiles instead of silently lowering the offered load.
 */
export async function openLoop(rate: number, op: Operation, clients: number, warmupMs: number, measureMs: number): Promise<OpenLoopResult> {
  const interval = 1000 / rate;
  const start = performance.now();
  const from = start + warmupMs;
  const until = from + measureMs;
  const latencies: number[] = [];
  let failed = 0;
  let sent = 0;
  const inFlight = new Set<Promise<void>>();

  const fire = (scheduled: number) => {
    const client = sent++ % clients;
    const p = op(client)
      .catch(() => false)
      .then((good) => {
        if (scheduled < from) return;
        if (good) latencies.push(performance.now() - scheduled);
        else failed++;
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };

  await new Promise<void>((resolve) => {
    let next = start;
    const tick = () => {
      const now = performance.now();
      while (next <= now && next < until) {
        fire(next);
        next += interval;
      }
      if (next >= until) return resolve();
      setTimeout(tick, Math.max(0, next - performance.now()));
    };
    tick();
  });
  await Promise.all(inFlight);

  latencies.sort((x, y) => x - y);
  return {
    targetRate: rate,
    achievedRate: latencies.length / (measureMs / 1000),
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    max: latencies.at(-1) ?? NaN,
    failed,
    samples: latencies.length,
  };
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}
