// npm run bench:append [-- --quick | --seconds 4 --clients 1,16,64 --channels 1,100,1000 --variants abcdeg]
// Append throughput of the event store against a plain INSERT, the HTTP API and Emmett, in one run
// on one fresh database (issue 2, "Benchmark"). Writes bench/results/append.json. See bench/README.md.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { type CellResult, type CellSpec, mergeRuns } from './append/cell.js';
import { type AppServer, children, runCellProcess, startAppServer } from './append/processes.js';
import { partShares } from './append/parts.js';
import {
  cpuTable,
  failures,
  loadAverage,
  type LowLoad,
  lowLoadTable,
  type PartsCell,
  partsTable,
  results,
  resultsTable,
  type Row,
  targets,
} from './append/report.js';
import { consumersAtHead, createBenchDatabase, dropBenchDatabase, freeConnections, seed, settle } from './append/setup.js';
import { machineLines, startRun, writeResults } from './results.js';
import { HTTP_VARIANTS, LOW_LOAD_RUNS, type LowLoadRun, type Variant, VARIANTS } from './append/variants.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    'server-warmup-posts': { type: 'string' },
    'latency-seconds': { type: 'string' },
    'low-load-rate': { type: 'string', default: '40' },
    'low-load-seconds': { type: 'string' },
    'low-load-rounds': { type: 'string', default: '3' },
    'cpu-rounds': { type: 'string' },
    clients: { type: 'string', default: '1,16,64' },
    channels: { type: 'string', default: '1,100,1000' },
    variants: { type: 'string', default: 'abcdeg' },
    parts: { type: 'boolean', default: true },
    'no-parts': { type: 'boolean', default: false },
    'http-client': { type: 'string', default: 'undici' },
    'named-baseline': { type: 'boolean', default: false },
    'app-pool-size': { type: 'string' },
    'app-env': { type: 'string', multiple: true, default: [] },
    'database-server': { type: 'string', default: process.env.BENCH_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432' },
    json: { type: 'string' },
    'cpu-prof': { type: 'string' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (args.help) {
  process.stdout.write(`Options (after "npm run bench:append --"):
  --quick                 1 s cells, 0.3 s warm-up: for checking the harness, not for figures
  --seconds N             measured seconds per cell (default 4; quick 1)
  --warmup N              warm-up seconds per cell (default 1; quick 0.3)
  --server-warmup-posts N posts to a fresh app or bare-route server before that warm-up (default
                          3000; quick 300): V8 optimises the server's code after enough calls,
                          on background threads whose CPU would count in the window (0: none)
  --latency-seconds N     measured seconds of the (c) latency run (default 3; quick 1)
  --low-load-rate N       posts per second of the single post at low load (default 40; 0 skips it):
                          (b), (e) and (c) each, one client posting on that schedule, p50 and p99,
                          and (e)'s server answering with no database (one HTTP round trip)
  --low-load-seconds N    measured seconds of each variant at low load (default 9; quick 2),
                          split over the rounds
  --low-load-rounds N     rounds of (b), (e), (c) one after another, each a fresh process (default 3;
                          quick 1): they share the box's moods instead of one each. (c) runs twice:
                          with the app's default ROLES (the target) and with ROLES=api
  --cpu-rounds N          more cells of (e) and (c), alternated, on the 100 x 16 row after the table
                          (default 4; quick 0): the app CPU target is the ratio of the medians of
                          these and the table's cell (one cell of each swung it by 0.2 between runs)
  --clients 1,16,64       concurrent clients
  --channels 1,100,1000   channels (= Emmett streams) the clients spread over
  --variants abcdeg       a plain INSERT, b post_message() call, c HTTP chat.postMessage, d Emmett,
                          e a bare Fastify route with the same token check and post_message() (the
                          floor of HTTP + this database), g (c) with 2 app processes (node:cluster);
                          f (opt-in) the bare append_event() the issue quotes at 0.79 of (a)
  --no-parts              skip the profiled (c) cell that splits the app's CPU per post by part
                          (HTTP/Nest pipeline, append call, relay, projector, dispatcher, ...)
  --http-client undici    undici (a Pool of keep-alive connections, one per client), http
                          (node:http keep-alive Agent) or fetch (global fetch) for (c)
  --named-baseline        (a) as a named prepared statement (default: pg's unnamed one, which
                          PostgreSQL parses and plans on every call, as for (b))
  --app-pool-size N       PG_POOL_SIZE of the app in (c) (default: the app's default)
  --app-env KEY=VALUE     more environment for the app in (c), repeatable; by default the table's
                          (c) runs the API role alone (no projector, job dispatcher or BullMQ
                          workers) and the low-load (c) the app's default ROLES (all of them):
                          --app-env PROJECTOR_ENABLED=true --app-env ROLES=api,worker ...
  --database-server URL   PostgreSQL server (env BENCH_DATABASE_SERVER)
  --json FILE             also write the raw per-cell results as JSON (bench/results/append.json
                          is always written)
  --cpu-prof DIR          write a V8 CPU profile of every cell and app process into DIR
                          (summarise one with: node dist-bench/bench/profile-summary.js FILE)
  --keep                  keep the atomcast_bench_* database
`);
  process.exit(0);
}

const list = (s: string) =>
  s
    .split(',')
    .map((v) => Number(v.trim()))
    .filter((v) => Number.isInteger(v) && v > 0);
const secs = (s: string | undefined, quick: number, normal: number) =>
  Math.round(1000 * (s !== undefined ? Number(s) : args.quick ? quick : normal));
const clientCounts = list(args.clients!);
const channelCounts = list(args.channels!);
const variants = [...args.variants!].filter((v): v is Variant => v in VARIANTS);
const warmupMs = secs(args.warmup, 0.3, 1);
const serverWarmupPosts = Number(args['server-warmup-posts'] ?? (args.quick ? 300 : 3000));
const measureMs = secs(args.seconds, 1, 4);
const latencyMs = secs(args['latency-seconds'], 1, 3);
const lowLoadRate = Number(args['low-load-rate']);
const lowLoadMs = secs(args['low-load-seconds'], 2, 9);
const lowLoadRounds = args.quick ? 1 : Number(args['low-load-rounds']);
const cpuRounds = Number(args['cpu-rounds'] ?? (args.quick ? 0 : 4));
// After the closed-loop warm-up: an app with every role is still settling for a few seconds after
// it starts (posts then took up to a second at 40/s on this box), which is not low load either.
const lowLoadWarmupMs = args.quick ? 1000 : 3000;
const httpClient = (['undici', 'http', 'fetch'] as const).find((c) => c === args['http-client']);
if (
  !httpClient ||
  !clientCounts.length ||
  !channelCounts.length ||
  !variants.length ||
  !(measureMs > 0) ||
  !(warmupMs >= 0) ||
  !(serverWarmupPosts >= 0) ||
  !(latencyMs > 0) ||
  !(lowLoadRate >= 0) ||
  !(lowLoadMs > 0) ||
  !(Number.isInteger(lowLoadRounds) && lowLoadRounds > 0)
) {
  process.stderr.write('bench: nothing to run; see --help\n');
  process.exit(2);
}

const envLine = (env: Record<string, string>) =>
  Object.entries(env)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
const log = (line: string) => process.stderr.write(`${line}\n`);
let url: string | undefined;

async function cleanUp(): Promise<void> {
  for (const child of children) child.kill('SIGKILL');
  if (url && !args.keep) await dropBenchDatabase(url).catch((err) => log(`could not drop the bench database: ${err}`));
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log('interrupted; cleaning up');
    void cleanUp().finally(() => process.exit(130));
  });
}

const execArgv = args['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${args['cpu-prof']}`] : [];

// The environment of every app the benchmark starts: quiet logs, the rate limit out of the way (its
// check still runs), Redis keys of our own.
const baseEnv: Record<string, string> = {
  LOG_LEVEL: 'warn',
  RATE_LIMIT_PER_MINUTE: '10000000',
  JOBS_PREFIX: `bench_${randomBytes(4).toString('hex')}`, // the Redis server is shared: keys of our own
  ...(args['app-pool-size'] ? { PG_POOL_SIZE: args['app-pool-size'] } : {}),
};
const extraEnv = Object.fromEntries(args['app-env']!.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
// The table's (c) measures the request path: the background consumers of the stream (projector, job
// dispatcher, workers) are measured by their own benchmarks and would compete for the same cores here.
const appEnv: Record<string, string> = {
  ...baseEnv,
  ROLES: 'api',
  PROJECTOR_ENABLED: 'false',
  JOBS_DISPATCHER_ENABLED: 'false',
  ...extraEnv,
};
// The single post at low load runs the app as `npm start` does by default (every role, the
// projector, job dispatcher, notify consumer and BullMQ workers sharing the thread that answers),
// in one process: all of its background work after a post can delay the next one.
const lowLoadEnv: Record<string, string> = { ...baseEnv, ...extraEnv };

const startApp = (database: string, variant: Variant, env = appEnv) =>
  startAppServer(
    { ...env, DATABASE_URL: database, PORT: '0', ...(variant === 'g' ? { BENCH_APP_PROCESSES: '2' } : {}) },
    execArgv,
    variant === 'e' ? 'floor' : 'app',
  );

/**
 * One more (c) cell with the app under --cpu-prof and its consumers on (projector and job
 * dispatcher, ROLES=api,consumers, no BullMQ workers): the profile splits the app's CPU per post
 * into parts (bench/append/parts.ts), scaled by the CPU per post /proc measured in the same cell.
 * Profiling slows the app a little; the shares, not this cell's rate, are its figures.
 */
async function profiledParts(url: string, data: CellSpec['data'], channels: number, clients: number): Promise<PartsCell | undefined> {
  await consumersAtHead(url);
  const dir = mkdtempSync(`${os.tmpdir()}/atomcast-parts-`);
  const env = {
    ...appEnv,
    DATABASE_URL: url,
    PORT: '0',
    ROLES: 'api,consumers',
    PROJECTOR_ENABLED: 'true',
    JOBS_DISPATCHER_ENABLED: 'true',
  };
  const app = await startAppServer(env, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
  try {
    await settle(url);
    const spec: CellSpec = {
      variant: 'c',
      data,
      clients,
      channels,
      warmupMs,
      measureMs,
      httpClient,
      appUrl: app.url,
      appPid: app.pid,
      serverWarmupCalls: serverWarmupPosts,
    };
    const cell = await runCellProcess(spec, []);
    // The profile is written when the app exits: give a consumer's last batch time to finish.
    const stopping = performance.now();
    const exited = await app.stop(60_000);
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile') && f.includes(`.${app.pid}.`));
    if (!file)
      throw new Error(
        exited
          ? `the profiled app exited after ${Math.round(performance.now() - stopping)} ms but wrote no profile`
          : 'the profiled app did not exit within 60 s of its stop, so it wrote no profile',
      );
    if (cell.cpu?.appUs === undefined) throw new Error('the profiled cell measured no app CPU');
    const shares = partShares(`${dir}/${file}`, app.readyMs + (cell.serverWarmupMs ?? 0) + warmupMs);
    if (!shares) return undefined;
    return { channels, clients, rate: cell.throughput.rate, appUs: cell.cpu.appUs, shares };
  } finally {
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One closed-loop cell of the table in its own process, against a fresh server for (c), (e) and (g); `latency`: (c)'s open-loop run after it. */
async function measureCell(
  url: string,
  data: CellSpec['data'],
  variant: Variant,
  channels: number,
  clients: number,
  latency: boolean,
): Promise<CellResult> {
  await settle(url);
  const spec: CellSpec = { variant, data, clients, channels, warmupMs, measureMs, httpClient, namedBaseline: args['named-baseline'] };
  let app: AppServer | undefined;
  try {
    if (HTTP_VARIANTS.includes(variant)) app = await startApp(url, variant);
    if (app) {
      spec.appUrl = app.url;
      spec.appPid = app.pid;
      spec.serverWarmupCalls = serverWarmupPosts;
      if (latency) spec.latency = { fraction: 0.5, warmupMs: Math.min(warmupMs, 500), measureMs: latencyMs };
    }
    return await runCellProcess(spec, execArgv);
  } finally {
    await app?.stop();
  }
}

/**
 * A single post at low load (issue 15: p50 <= 1.5x the store call alone): (b), (e) and (c) back to
 * back, each one client posting on a fixed schedule of `lowLoadRate` per second after a warm-up, on
 * the fewest channels of the run. (c) is the app with its default ROLES (see lowLoadEnv).
 */
async function lowLoad(url: string, data: CellSpec['data'], errors: string[]): Promise<LowLoad | undefined> {
  const measured = (Object.keys(LOW_LOAD_RUNS) as LowLoadRun[]).filter((run) => variants.includes(LOW_LOAD_RUNS[run].variant));
  if (!lowLoadRate || !measured.length) return undefined;
  const channels = Math.min(...channelCounts);
  const runs: Partial<Record<LowLoadRun, CellResult[]>> = {};
  for (let round = 1; round <= lowLoadRounds; round++) {
    for (const run of measured) {
      const { variant, label } = LOW_LOAD_RUNS[run];
      const consumers = run === 'c';
      await settle(url);
      let app: AppServer | undefined;
      try {
        if (consumers) await consumersAtHead(url);
        if (HTTP_VARIANTS.includes(variant)) app = await startApp(url, variant, consumers ? lowLoadEnv : appEnv);
        const spec: CellSpec = {
          variant,
          data,
          clients: 1,
          channels,
          warmupMs,
          measureMs: Math.round(lowLoadMs / lowLoadRounds),
          httpClient,
          noDatabase: run === 'hop',
          appUrl: app?.url,
          appPid: app?.pid,
          spaced: { rate: lowLoadRate, spacedWarmupMs: lowLoadWarmupMs, consumers },
        };
        const cell = await runCellProcess(spec, execArgv);
        (runs[run] ??= []).push(cell);
        const lat = cell.latency!;
        log(
          `low load, round ${round}/${lowLoadRounds}, ${label}: p50 ${lat.p50.toFixed(2)} ms, p99 ${lat.p99.toFixed(2)} ms, ${lat.samples} posts at ${lowLoadRate}/s`,
        );
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        errors.push(`low load, round ${round}, ${label}: ${reason}`);
        log(`low load, round ${round}, ${label} FAILED: ${reason}`);
      } finally {
        await app?.stop();
      }
    }
  }
  const cells: LowLoad['cells'] = {};
  for (const run of measured) if (runs[run]?.length) cells[run] = mergeRuns(runs[run]);
  return { rate: lowLoadRate, channels, rounds: lowLoadRounds, cells };
}

async function main(): Promise<void> {
  const started = Date.now();
  url = await createBenchDatabase(args['database-server']!);
  log(`database ${new URL(url).pathname.slice(1)} migrated; seeding`);
  const data = await seed(url, Math.max(...clientCounts), Math.max(...channelCounts));
  const run = await startRun(url);
  const machine = machineLines(run.machine);
  // A cell holds its clients' connections, or for (c) the app's pool and its LISTEN connection.
  const needed = Math.max(Math.max(...clientCounts), variants.includes('c') ? Number(appEnv.PG_POOL_SIZE ?? 20) + 2 : 0) + 2;
  const free = await freeConnections(url);
  if (free < needed) log(`warning: ${free} connections free on the server, the largest cells need about ${needed}`);

  const rows: Row[] = [];
  const errors: string[] = [];
  // First, on the fresh database: the low-load app's consumers start near an empty log.
  const low = await lowLoad(url, data, errors);
  const total = channelCounts.length * clientCounts.length * variants.length;
  let done = 0;
  for (const channels of channelCounts) {
    for (const clients of clientCounts) {
      const row: Row = { channels, clients, cells: {} };
      rows.push(row);
      for (const variant of variants) {
        try {
          const cell = (row.cells[variant] = await measureCell(url, data, variant, channels, clients, variant === 'c'));
          const lat = cell.latency
            ? `; p50 ${cell.latency.p50.toFixed(1)} ms, p99 ${cell.latency.p99.toFixed(1)} ms at ${Math.round(cell.latency.achievedRate)}/s`
            : '';
          const failed = cell.throughput.failed ? ` (${cell.throughput.failed} failed)` : '';
          log(
            `[${++done}/${total}] ${channels} channels x ${clients} clients (${variant}) ${VARIANTS[variant]}: ${Math.round(cell.throughput.rate)}/s${failed}${lat}`,
          );
        } catch (err) {
          // One broken variant (say, the app does not start) must not cost the rest of the table.
          const reason = err instanceof Error ? err.message : String(err);
          errors.push(`${channels} x ${clients} (${variant}): ${reason}`);
          log(`[${++done}/${total}] ${channels} channels x ${clients} clients (${variant}) FAILED: ${reason}`);
        }
      }
    }
  }

  // The app CPU target's two cells again, alternated: one cell of each moved the ratio by 0.2 between
  // runs on a quiet box ((e) alone from 74 to 97 µs), more than the changes it is there to judge.
  const target = rows.find((r) => r.channels === 100 && r.clients === 16);
  if (cpuRounds > 0 && target?.cells.c?.cpu?.appUs !== undefined && target.cells.e?.cpu?.appUs !== undefined) {
    const rounds = (target.cpuRounds = { c: [target.cells.c.cpu.appUs], e: [target.cells.e.cpu.appUs] });
    for (let round = 1; round <= cpuRounds; round++) {
      for (const variant of ['e', 'c'] as const) {
        try {
          const us = (await measureCell(url, data, variant, 100, 16, false)).cpu?.appUs;
          if (us !== undefined) rounds[variant].push(us);
        } catch (err) {
          errors.push(`app CPU round ${round} (${variant}): ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      log(
        `app CPU round ${round}/${cpuRounds}, 100 channels x 16 clients: (e) ${Math.round(rounds.e.at(-1)!)} µs, (c) ${Math.round(rounds.c.at(-1)!)} µs per post`,
      );
    }
  }

  let parts: PartsCell | undefined;
  if (args.parts && !args['no-parts'] && variants.includes('c')) {
    // The row when it is measured, else the largest one.
    const channels = channelCounts.includes(100) ? 100 : Math.max(...channelCounts);
    const clients = clientCounts.includes(16) ? 16 : Math.max(...clientCounts);
    try {
      parts = await profiledParts(url, data, channels, clients);
      log(`parts: ${channels} channels x ${clients} clients (c) profiled${parts ? '' : ', but the profile held no busy sample'}`);
    } catch (err) {
      errors.push(`parts: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  const out = [
    '',
    `bench:append  ${new Date().toISOString()}  (${((Date.now() - started) / 1000).toFixed(0)} s)`,
    ...machine,
    `load avg:   ${loadAverage()} (at end)`,
    `cells:      ${warmupMs / 1000} s warm-up + ${measureMs / 1000} s measured, closed loop (servers: ${serverWarmupPosts} posts before); (c) latency open loop at 50% of its peak for ${latencyMs / 1000} s; (c) client: ${httpClient}; (a) ${args['named-baseline'] ? 'named prepared' : 'unnamed'} statement`,
    `(c) app:    ${envLine(appEnv)}`,
    ...(low
      ? [
          `low load:   one client posting ${lowLoadRate}/s, ${lowLoadRounds} round(s) of (b), (e), (c) twice, each ${lowLoadMs / lowLoadRounds / 1000} s measured after ${warmupMs / 1000} s closed-loop + ${lowLoadWarmupMs / 1000} s spaced warm-up; latency from the call; ${low.channels} channels`,
          `            (c) app: its default ROLES (every consumer in the one process): ${envLine(lowLoadEnv)}; and as the table's (c), ROLES=api`,
        ]
      : []),
    ...variants.map((v) => `(${v}) ${VARIANTS[v]}`),
    '',
    ...lowLoadTable(low),
    resultsTable(rows),
    '',
    ...cpuTable(rows),
    ...partsTable(parts),
    ...failures(rows),
    ...errors.map((e) => `not measured: ${e}`),
    'Targets:',
    ...targets(rows, parts, low).map((t) => `  ${t}`),
    '',
  ];
  process.stdout.write(out.join('\n'));
  writeResults(run, {
    benchmark: 'append',
    quick: args.quick!,
    ...results(rows, parts, low),
    notes: [
      `${warmupMs / 1000} s warm-up + ${measureMs / 1000} s measured per cell, after ${serverWarmupPosts} posts to each fresh app or bare-route server; (a) ${args['named-baseline'] ? 'named prepared' : 'unnamed'} statement, (b) a named prepared one`,
      ...failures(rows),
      ...errors.map((e) => `not measured: ${e}`),
    ],
  });
  if (args.json) writeFileSync(args.json, JSON.stringify({ machine, warmupMs, measureMs, latencyMs, httpClient, rows, low }, null, 2));
}

try {
  await main();
} finally {
  await cleanUp();
}
