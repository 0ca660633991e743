// node dist-bench/bench/consumers/pass-cost.js [--passes 40] [--sizes 1,2,5,20,100]
// The projector's CPU per pass and per event in this process, with no timing in the way: posts
// `size` messages, waits until the global cursor shows them, then runs one pass (runOnce: it also
// reads the checkpoints, as a poll does; a NOTIFY-woken pass does not) over both projections and
// measures this process's CPU (process.cpuUsage) and the statements it sent. Repeated `passes`
// times per size, so an A/B of two commits in the same minute compares like with like; the
// rate-driven figures of bench:consumers depend on how busy the box is.
import { parseArgs } from 'node:util';
import pg from 'pg';
import { ChatRepository } from '../../src/api/chat/chat.repository.js';
import { loadConfig } from '../../src/config/config.js';
import { EventStore } from '../../src/event-store/event-store.js';
import { Projector } from '../../src/projections/projector.js';
import { allProjections } from '../../src/projections/projections.js';
import { createBenchDatabase, dropBenchDatabase, seed } from '../append/setup.js';
import { keepAppTypeParsers } from './app-type-parsers.js';

const { values: args } = parseArgs({
  options: {
    passes: { type: 'string', default: '40' },
    sizes: { type: 'string', default: '1,2,5,20,100' },
    'database-server': { type: 'string', default: process.env.BENCH_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432' },
  },
});

let sent = 0;
const query = pg.Client.prototype.query as (...a: unknown[]) => unknown;
pg.Client.prototype.query = function (this: pg.Client, ...a: unknown[]) {
  sent++;
  return query.apply(this, a);
} as typeof pg.Client.prototype.query;

const url = await keepAppTypeParsers(() => createBenchDatabase(args['database-server']!));
const pool = new pg.Pool({ connectionString: url, max: 4 });
pool.on('error', () => {});
const store = new EventStore(pool, loadConfig({ DATABASE_URL: url, LOG_LEVEL: 'warn' }));
const projector = new Projector(allProjections({ searchKeys: { current: async () => undefined } }), store, {
  databaseUrl: url,
  pool,
  batchSize: 1000,
  intervalMs: 60_000,
});
// Only the measured passes run: the NOTIFYs of the posts wake none.
projector.wake = () => {};
try {
  const data = await seed(url, 4, 20);
  const chat = new ChatRepository(pool, store);
  const posts = async (n: number) => {
    for (let i = 0; i < n; i++)
      await chat.postMessage({
        workspace: data.workspace,
        channel: data.channels[i % data.channels.length],
        user: data.users[i % data.users.length].id,
        text: `pass cost message ${i} with <@${data.users[0].id}> and some words to index`,
      });
    await store.flushHints();
    const from = await store.loadCheckpoint('unread');
    for (let i = 0; i < 400 && (await store.readGlobal(from, 100_000)).length < n; i++) await new Promise((r) => setTimeout(r, 5));
  };
  await posts(200);
  await projector.runOnce(); // warm-up: connection, lead, JIT
  for (const size of args.sizes!.split(',').map(Number)) {
    let cpuUs = 0;
    let sysUs = 0;
    let statements = 0;
    let events = 0;
    for (let i = 0; i < Number(args.passes); i++) {
      await posts(size);
      const sentBefore = sent;
      const before = process.cpuUsage();
      events += await projector.runOnce();
      const used = process.cpuUsage(before);
      cpuUs += used.user + used.system;
      sysUs += used.system;
      statements += sent - sentBefore;
    }
    const passes = Number(args.passes);
    process.stdout.write(
      `${String(size).padStart(4)} events/pass: ${(cpuUs / passes).toFixed(0).padStart(6)} µs CPU/pass  ` +
        `${(cpuUs / events).toFixed(1).padStart(7)} µs/event  ${(statements / passes).toFixed(1)} statements/pass  ` +
        `(system ${((100 * sysUs) / cpuUs).toFixed(0)}%)\n`,
    );
  }
} finally {
  await projector.stop();
  await store.flushHints();
  await pool.end();
  await dropBenchDatabase(url);
}
