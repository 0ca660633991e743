import { performance } from 'node:perf_hooks';

/** One call of the system under test; resolves false (or throws) when it did not append. */
export type Operation = (client: number) => Promise<boolean>;

export interface ClosedLoopResult {
  rate: number; // successful operations per second inside the measured window
  ok: number;
  failed: number;
  seconds: number;
}

/** Hooks around the measured window (the CPU meter): called with a count of the calls completed so far. */
export interface Window {
  start(completed: () => number): unknown;
  end(completed: () => number): unknown;
}

/** Opens `window` after `warmupMs` and closes it `measureMs` later (or at `close()`, whichever is first). */
function timeWindow(window: Window | undefined, completed: () => number, warmupMs: number, measureMs: number) {
  let ended = false;
  const end = () => {
    if (!ended) window?.end(completed);
    ended = true;
  };
  const opened = setTimeout(() => window?.start(completed), warmupMs);
  const closed = setTimeout(end, warmupMs + measureMs);
  return {
    close: () => {
      clearTimeout(opened);
      clearTimeout(closed);
      end(); // the last call can return just before the timer fires
    },
  };
}

/**
 * `calls` operations from `clients` closed-loop callers, nothing measured: brings a server that
 * starts fresh for a cell to its steady state (V8 optimises a function after enough calls, on
 * background threads whose CPU counts as the app's), whatever rate the box allows. Returns the
 * milliseconds it took.
 */
export async function warmUp(clients: number, op: Operation, calls: number): Promise<number> {
  const start = performance.now();
  let issued = 0;
  const client = async (i: number) => {
    while (issued++ < calls) await op(i).catch(() => false);
  };
  await Promise.all(Array.from({ length: clients }, (_, i) => client(i)));
  return performance.now() - start;
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
  window?: Window,
): Promise<ClosedLoopResult> {
  const start = performance.now();
  const from = start + warmupMs;
  const until = from + measureMs;
  let completed = 0;
  const measured = timeWindow(window, () => completed, warmupMs, measureMs);
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
  measured.close();
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
  /** Every measured latency, sorted (kept when asked for: runs merged from several rounds). */
  latencies?: number[];
}

/** Percentiles of sorted latencies measured over `seconds` at `targetRate`. */
export function summarize(latencies: number[], targetRate: number, seconds: number, failed: number): OpenLoopResult {
  return {
    targetRate,
    achievedRate: latencies.length / seconds,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    max: latencies.at(-1) ?? NaN,
    failed,
    samples: latencies.length,
  };
}

export interface OpenLoopOptions {
  window?: Window;
  /**
   * `schedule` (default): latency runs from the scheduled start, so a stall in the server or the
   * client shows up in the percentiles instead of silently lowering the offered load. `call`: from
   * when the call was made, so the load generator's own timer lateness is left out (a single post at
   * low load, where that lateness would only add the same noise to every variant).
   */
  from?: 'schedule' | 'call';
  /** Return every latency as well (to merge runs). */
  keepLatencies?: boolean;
}

/**
 * Open loop (the latency test): operations start on a fixed schedule at `rate` per second whether
 * or not earlier ones returned.
 */
export async function openLoop(
  rate: number,
  op: Operation,
  clients: number,
  warmupMs: number,
  measureMs: number,
  { window, from: origin = 'schedule', keepLatencies = false }: OpenLoopOptions = {},
): Promise<OpenLoopResult> {
  const interval = 1000 / rate;
  const start = performance.now();
  const from = start + warmupMs;
  const until = from + measureMs;
  const latencies: number[] = [];
  let failed = 0;
  let sent = 0;
  let completed = 0;
  const measured = timeWindow(window, () => completed, warmupMs, measureMs);
  const inFlight = new Set<Promise<void>>();

  const fire = (scheduled: number) => {
    const client = sent++ % clients;
    const called = origin === 'call' ? performance.now() : scheduled;
    const p = op(client)
      .catch(() => false)
      .then((good) => {
        completed++;
        if (scheduled < from) return;
        if (good) latencies.push(performance.now() - called);
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
  measured.close();

  latencies.sort((x, y) => x - y);
  return { ...summarize(latencies, rate, measureMs / 1000, failed), ...(keepLatencies ? { latencies } : {}) };
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}
