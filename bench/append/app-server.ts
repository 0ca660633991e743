// The real app for (c), in its own process (its own event loop and core, as in production).
// Reports its port over IPC and stops on a "stop" message, exiting normally so that a --cpu-prof
// profile gets written. With BENCH_COUNT_QUERIES=1 it prints, on stop, every SQL statement the app
// sent and how often (query-count.ts), as floor-server.ts does for (e).
//
// BENCH_APP_PROCESSES=N (> 1) runs it as `npm start` does with WEB_CONCURRENCY=N: this process is the
// node:cluster primary and N workers share the port (listen(0) in cluster workers picks one port).
import 'reflect-metadata';
import cluster from 'node:cluster';
import { performance } from 'node:perf_hooks';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { printQueryCounts } from './query-count.js';

const processes = Number(process.env.BENCH_APP_PROCESSES ?? 1);
if (cluster.isPrimary && processes > 1) {
  let listening = 0;
  cluster.on('listening', (_worker, address) => {
    if (++listening === processes) process.send?.({ port: address.port, readyMs: performance.now() });
  });
  for (let i = 0; i < processes; i++) cluster.fork();
  let stopping = false;
  const stopAll = () => {
    if (stopping) return;
    stopping = true;
    const workers = Object.values(cluster.workers ?? {});
    let left = workers.length;
    if (!left) process.exit(0);
    for (const w of workers) {
      w!.once('exit', () => --left || process.exit(0));
      w!.send({ stop: true });
    }
  };
  process.on('message', (msg: { stop?: boolean }) => msg.stop && stopAll());
  process.on('disconnect', stopAll);
} else await serve();

async function serve(): Promise<void> {
  const config = loadConfig();
  const app = await createApp(config);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  // readyMs: when it listened, on the clock a --cpu-prof profile of this process starts near.
  process.send?.({ port, readyMs: performance.now() });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    printQueryCounts('app');
    void app.close().finally(() => process.exit(0));
  };
  process.on('message', (msg: { stop?: boolean }) => {
    if (msg.stop) stop();
  });
  // The benchmark died without stopping us (killed, crashed): do not linger as an orphan.
  process.on('disconnect', stop);
}
