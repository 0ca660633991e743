// A consumers-only node (createWorker, as `ROLES=consumers npm start` runs it) in its own process, so
// its CPU is the consumers' alone. Says "ready" over IPC and stops on a "stop" message.
import 'reflect-metadata';
import pg from 'pg';
import { createWorker } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';

// Counts the statements the consumers send (the benchmark asks for the count over IPC);
// BENCH_COUNT_QUERIES=1 also prints, on stop, every statement and how often.
let sent = 0;
const queries = new Map<string, number>();
const listAll = process.env.BENCH_COUNT_QUERIES === '1';
const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  sent++;
  if (listAll) {
    const first = args[0] as string | { text?: string } | undefined;
    const text = (typeof first === 'string' ? first : (first?.text ?? '?')).replace(/\s+/g, ' ').slice(0, 100);
    queries.set(text, (queries.get(text) ?? 0) + 1);
  }
  return query.apply(this, args);
} as typeof pg.Client.prototype.query;

const app = await createWorker(loadConfig());
process.send?.({ ready: true });
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  if (queries.size) {
    const lines = [...queries].sort((a, b) => b[1] - a[1]).map(([text, n]) => `${String(n).padStart(9)}  ${text}`);
    process.stderr.write(`consumer queries (count, statement):\n${lines.join('\n')}\n`);
  }
  void app.close().finally(() => process.exit(0));
};
process.on('message', (msg: { stop?: boolean; count?: boolean }) => {
  if (msg.count) process.send?.({ sent });
  if (msg.stop) stop();
});
// The benchmark died without stopping us: do not linger as an orphan.
process.on('disconnect', stop);
