import cluster, { type Worker } from 'node:cluster';

/** A worker that dies this soon after it started is a crash loop (bad config, port taken): stop, do not respawn. */
const CRASH_LOOP_MS = 10_000;

/**
 * The primary of `npm start` with WEB_CONCURRENCY > 1: forks `count` copies of this script, which
 * share the listening port (node:cluster hands accepted connections round-robin to the workers).
 * Each worker is an ordinary stateless node (its own pools, LISTEN, relay, Socket.IO server), so
 * nothing is shared here but the port. Each gets a slot (CLUSTER_WORKER_SLOT): slot 0 alone runs
 * the consumers (runsConsumers). A worker that dies later is replaced in its slot; SIGTERM/SIGINT
 * are passed on and the primary exits when the last worker has.
 */
export function superviseWorkers(count: number, log: (line: string) => void): void {
  let stopping = false;
  const started = new Map<Worker, { at: number; slot: number }>();
  const fork = (slot: number) => started.set(cluster.fork({ CLUSTER_WORKER_SLOT: String(slot) }), { at: Date.now(), slot });

  cluster.on('exit', (worker, code, signal) => {
    const { at, slot } = started.get(worker) ?? { at: 0, slot: 0 };
    const age = Date.now() - at;
    started.delete(worker);
    if (stopping) {
      if (!started.size) process.exit(0);
      return;
    }
    log(`worker ${worker.process.pid} exited (${signal ?? `code ${code}`}) after ${Math.round(age / 1000)} s`);
    if (age < CRASH_LOOP_MS) {
      log('a worker died right after it started: stopping the others');
      stopping = true;
      process.exitCode = 1;
      for (const w of started.keys()) w.process.kill('SIGTERM');
      if (!started.size) process.exit(1);
      return;
    }
    fork(slot);
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    process.on(signal, () => {
      stopping = true;
      for (const w of started.keys()) w.process.kill(signal);
      if (!started.size) process.exit(0);
    });
  for (let slot = 0; slot < count; slot++) fork(slot);
}

export const isClusterWorker = (): boolean => cluster.isWorker;
