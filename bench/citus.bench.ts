// npm run bench:citus [-- --quick | --seconds 4 --clients 16 --channels 100 --lag-seconds 10 --rate 500]
// Issue 16's benchmark: bench:append's (b) post_message() and (c) HTTP chat.postMessage on a Citus
// cluster on this machine (coordinator + 2 workers, started here) beside the single-node server in
// the same run, with the ratio; where the time goes (CPU per post by node); and the consumers' lag
// (projector, and a second consumer in the job dispatcher's place) at a sustained post rate on the
// cluster. Writes bench/results/citus.json.
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { ChatRepository } from '../src/api/chat/chat.repository.js';
import { loadConfig } from '../src/config/config.js';
import type { Queryable } from '../src/db/database.js';
import { EventStore } from '../src/event-store/event-store.js';
import type { GlobalEvent, Projection } from '../src/projections/projection.js';
import { Projector } from '../src/projections/projector.js';
import { UnreadProjection } from '../src/projections/unread/unread.projection.js';
import { createCitusDatabase, startCitusCluster } from '../test/support/citus.js';
import type { CellResult, CellSpec } from './append/cell.js';
import { percentile } from './append/load.js';
import { children, runCellProcess, startAppServer } from './append/processes.js';
import { createBenchDatabase, dropBenchDatabase, seed, settle } from './append/setup.js';
import { figure, type Figure, machineLines, ratio, type Ratio, startRun, writeResults } from './results.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    clients: { type: 'string', default: '16' },
    channels: { type: 'string', default: '100' },
    'lag-seconds': { type: 'string' },
    rate: { type: 'string', default: '500' },
    'database-server': { type: 'string', default: process.env.BENCH_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432' },
  },
});
const quick = args.quick!;
const measureMs = 1000 * Number(args.seconds ?? (quick ? 1.5 : 4));
const warmupMs = quick ? 300 : 1000;
const lagMs = 1000 * Number(args['lag-seconds'] ?? (quick ? 4 : 10));
const clients = Number(args.clients);
const channels = Number(args.channels);
const rate = Number(args.rate);
const log = (line: string) => process.stderr.write(`${line}\n`);

/**
 * CPU seconds used so far by a PostgreSQL server's processes: the postmaster and its children alive
 * now, plus the children that have ended (the kernel adds a reaped child's CPU to its parent's
 * cutime/cstime). Without the latter, the backends of a cell's connections, gone when it ends, are
 * left out: the coordinator's share read as almost nothing.
 */
function serverCpu(dataDir: string): number {
  const postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== postmaster && Number(entry) !== postmaster) continue;
      ticks += Number(fields[11]) + Number(fields[12]); // utime + stime
      if (Number(entry) === postmaster) ticks += Number(fields[13]) + Number(fields[14]); // cutime + cstime
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks / 100;
}

const appEnv = (url: string) => ({
  DATABASE_URL: url,
  PORT: '0',
  LOG_LEVEL: 'warn',
  RATE_LIMIT_PER_MINUTE: '10000000',
  ROLES: 'api',
  PROJECTOR_ENABLED: 'false',
  JOBS_DISPATCHER_ENABLED: 'false',
  JOBS_PREFIX: `bench_${randomBytes(4).toString('hex')}`,
});

async function cell(variant: 'b' | 'c', url: string, data: CellSpec['data']): Promise<CellResult> {
  await settle(url).catch(() => {});
  const spec: CellSpec = { variant, data, clients, channels, warmupMs, measureMs, httpClient: 'undici' };
  const app = variant === 'c' ? await startAppServer(appEnv(url)) : undefined;
  try {
    if (app) {
      spec.appUrl = app.url;
      spec.appPid = app.pid;
    }
    return await runCellProcess(spec);
  } finally {
    await app?.stop();
  }
}

/** The unread projection, noting for every event how long after its append it was applied. */
class Timed implements Projection {
  readonly tables: readonly string[];
  readonly lags: number[] = [];
  measuring = false;
  constructor(private readonly inner: Projection & { name: string }) {
    this.tables = inner.tables;
  }
  get name() {
    return this.inner.name;
  }
  async apply(db: Queryable, events: readonly GlobalEvent[]) {
    await this.inner.apply(db, events);
    const now = Date.now() * 1000;
    if (this.measuring) for (const e of events) this.lags.push((now - Number(e.ts.replace('.', ''))) / 1e6);
  }
}

const recorder: Projection = { name: 'bench-dispatch', tables: [], apply: async () => {} };

/** Posts at `rate`/s for `ms` on the cluster while the projector and a second consumer follow. */
async function consumerLag(url: string, data: CellSpec['data']) {
  const pool = new pg.Pool({ connectionString: url, max: clients });
  pool.on('error', () => {});
  const store = new EventStore(pool, loadConfig({ DATABASE_URL: url }));
  const chat = new ChatRepository(pool, store);
  const unread = new Timed(new UnreadProjection());
  const dispatch = new Timed(recorder as Projection & { name: string });
  const opts = { databaseUrl: url, pool, batchSize: 1000, intervalMs: 200 };
  const projectors = [new Projector(unread, store, opts), new Projector(dispatch, store, opts)];
  for (const p of projectors) await p.catchUp({ timeoutMs: 120_000 });
  for (const p of projectors) p.start();
  unread.measuring = dispatch.measuring = true;
  let sent = 0;
  let failed = 0;
  const started = Date.now();
  const inflight = new Set<Promise<unknown>>();
  while (Date.now() - started < lagMs) {
    const due = Math.floor(((Date.now() - started) / 1000) * rate);
    while (sent < due && inflight.size < clients * 4) {
      const i = sent++;
      const p = chat
        .postMessage({
          workspace: data.workspace,
          channel: data.channels[i % data.channels.length],
          user: data.users[i % data.users.length].id,
          text: `lag ${i}`,
        })
        .catch(() => failed++)
        .finally(() => inflight.delete(p));
      inflight.add(p);
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  await Promise.all(inflight);
  const achieved = (sent - failed) / ((Date.now() - started) / 1000);
  for (const p of projectors) await p.catchUp({ timeoutMs: 120_000 });
  for (const p of projectors) await p.stop();
  await store.flushHints();
  await pool.end();
  const stats = (lags: number[]) => {
    const sorted = [...lags].sort((a, b) => a - b);
    return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? NaN, n: sorted.length };
  };
  return { achieved, failed, unread: stats(unread.lags), dispatch: stats(dispatch.lags) };
}

async function main() {
  const started = Date.now();
  log('starting a Citus cluster (coordinator + 2 workers)');
  const cluster = await startCitusCluster(2);
  let single: string | undefined;
  let distributed: { url: string; drop(): Promise<void> } | undefined;
  try {
    single = await createBenchDatabase(args['database-server']!);
    distributed = await createCitusDatabase(cluster.port, 2, 'atomcast_bench');
    const run = await startRun(single);
    const singleData = await seed(single, clients, channels);
    const clusterData = await seed(distributed.url, clients, channels);
    const dirs = ['n0', 'n1', 'n2'].map((n) => join(cluster.dir, n));
    const figures: Figure[] = [];
    const ratios: Ratio[] = [];
    const lines: string[] = [];
    for (const variant of ['b', 'c'] as const) {
      const what = variant === 'b' ? '(b) post_message()' : '(c) HTTP chat.postMessage';
      const one = await cell(variant, single, singleData);
      const before = dirs.map(serverCpu);
      const many = await cell(variant, distributed.url, clusterData);
      const used = dirs.map((d, i) => serverCpu(d) - before[i]);
      const posts = many.throughput.ok + 0.0001;
      const f1 = figure(`${what}, single node, ${clients} clients x ${channels} channels`, one.throughput.rate, 'posts/s');
      const f2 = figure(`${what}, Citus 1+2 on this box, ${clients} clients x ${channels} channels`, many.throughput.rate, 'posts/s');
      // CPU per post on the cluster, over the whole cell (warm-up included, so an upper bound).
      const cpuCoord = figure(`${what} on Citus: coordinator CPU per post`, (used[0] / posts) * 1e6, 'µs');
      const cpuWorkers = figure(`${what} on Citus: workers' CPU per post`, ((used[1] + used[2]) / posts) * 1e6, 'µs');
      figures.push(f1, f2, cpuCoord, cpuWorkers);
      ratios.push(
        ratio(
          `${what}: Citus / single node`,
          f2,
          f1,
          { op: '>=', value: 0.5 },
          'every post crosses the coordinator (planning the delegated call, one more round trip) and three servers share 2 cores',
        ),
      );
      lines.push(
        `${what}: single ${Math.round(one.throughput.rate)}/s, Citus ${Math.round(many.throughput.rate)}/s, ratio ${(many.throughput.rate / one.throughput.rate).toFixed(2)}; ` +
          `Citus CPU per post: coordinator ${Math.round(cpuCoord.value ?? 0)} µs, workers ${Math.round(cpuWorkers.value ?? 0)} µs`,
      );
      log(lines.at(-1)!);
    }
    log(`consumer lag at ${rate} posts/s for ${lagMs / 1000} s on the cluster`);
    const lag = await consumerLag(distributed.url, clusterData);
    figures.push(figure(`posts/s achieved on Citus during the lag run (asked ${rate})`, lag.achieved, 'posts/s'));
    for (const [who, s] of [
      ['projector (unread)', lag.unread],
      ['second consumer (dispatcher loop)', lag.dispatch],
    ] as const) {
      figures.push(
        figure(
          `consumer lag p99 on Citus, ${who}`,
          s.p99,
          's',
          { op: '<=', value: 1 },
          'the consumers share 2 cores with 3 servers and the writers',
        ),
      );
      figures.push(figure(`consumer lag max on Citus, ${who}`, s.max, 's'));
      lines.push(`lag ${who}: p50 ${s.p50.toFixed(3)} s, p99 ${s.p99.toFixed(3)} s, max ${s.max.toFixed(3)} s over ${s.n} events`);
    }
    lines.push(`achieved ${Math.round(lag.achieved)} posts/s (${lag.failed} failed)`);
    const machine = machineLines(run.machine);
    process.stdout.write(
      [
        '',
        `bench:citus  ${new Date().toISOString()}  (${((Date.now() - started) / 1000).toFixed(0)} s)`,
        ...machine,
        `cells: ${warmupMs / 1000} s warm-up + ${measureMs / 1000} s, ${clients} clients over ${channels} channels`,
        ...lines,
        '',
      ].join('\n'),
    );
    writeResults(run, {
      benchmark: 'citus',
      quick,
      figures,
      ratios,
      notes: [
        'Citus 13.2.2, coordinator + 2 workers on this one machine (citus.shard_count 4, citus.max_adaptive_executor_pool_size 1): this measures overhead, not scaling.',
        ...lines,
      ],
    });
  } finally {
    for (const child of children) child.kill('SIGKILL');
    if (single) await dropBenchDatabase(single).catch(() => {});
    await distributed?.drop().catch(() => {});
    await cluster.stop();
  }
}

await main();
