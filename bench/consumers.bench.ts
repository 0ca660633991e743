// npm run bench:consumers [-- --quick | --seconds 10 --low-rate 200 --high-clients 16 --channels 100 | --only projector --rate low]
// Issue 15, item 3: the app CPU per event of the projector (unread counts and search index) and of
// the job dispatcher, each alone in a consumers-only process (ROLES=consumers), while posts arrive
// through post_message() (the event store's chat path, fan-out hint and NOTIFY on) at a low rate (one
// writer, `--low-rate` posts/s, about one HTTP client's pace) and at a high one (`--high-clients`
// writers in a closed loop over `--channels` channels). CPU is the consumer process's (every thread,
// /proc schedstat) from the first post until its checkpoints reach the last one, over the events
// posted: idle polls and garbage collection included, after a warm-up at the same rate. Baseline: the same events read by a bare
// readGlobal loop (batches of 1,000) in this process. The projector's follow latency at the low rate
// (post commit to its checkpoint covering the post, polled every 2 ms) is printed too.
// Writes bench/results/consumers.json.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { ChatRepository } from '../src/api/chat/chat.repository.js';
import { loadConfig } from '../src/config/config.js';
import { EventStore } from '../src/event-store/event-store.js';
import { type GlobalCursor, parseCursor, START } from '../src/event-store/events.js';
import { cpuSupported, mainThread, times } from './append/cpu.js';
import { children, stopChild, track } from './append/processes.js';
import { createBenchDatabase, dropBenchDatabase, seed, settle } from './append/setup.js';
import { keepAppTypeParsers } from './consumers/app-type-parsers.js';
import { type Figure, figure, machineLines, ratio, type Ratio, startRun, writeResults } from './results.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    'low-rate': { type: 'string', default: '200' },
    'high-clients': { type: 'string', default: '16' },
    channels: { type: 'string', default: '100' },
    'database-server': { type: 'string', default: process.env.BENCH_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432' },
    keep: { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    /** One consumer ('projector' or 'dispatcher') and/or one rate ('low' or 'high'): a quicker A/B of one cell. */
    only: { type: 'string' },
    rate: { type: 'string' },
  },
});

const seconds = args.seconds !== undefined ? Number(args.seconds) : args.quick ? 1 : 8;
const warmup = args.quick ? 0.5 : 2;
const lowRate = Number(args['low-rate']);
const highClients = Number(args['high-clients']);
const channelCount = Number(args.channels);
const TARGET_US = 50;
const log = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) =>
  xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] : undefined;

const CONSUMER_PROCESS = fileURLToPath(new URL('./consumers/consumer-process.js', import.meta.url));
const WAKE_FLOOR_PROCESS = fileURLToPath(new URL('./consumers/wake-floor-process.js', import.meta.url));
const CONSUMERS = {
  projector: { env: { PROJECTOR_ENABLED: 'true', JOBS_DISPATCHER_ENABLED: 'false' }, checkpoints: ['unread', 'search-index'] },
  'job dispatcher': { env: { PROJECTOR_ENABLED: 'false', JOBS_DISPATCHER_ENABLED: 'true' }, checkpoints: ['job-dispatch'] },
} as const;
type Consumer = keyof typeof CONSUMERS;

interface ConsumerProcess {
  pid: number;
  /** Statements the process has sent so far. */
  statements(): Promise<number>;
  stop(): Promise<boolean>;
}

function startConsumer(url: string, consumer: Consumer): Promise<ConsumerProcess> {
  const child = fork(CONSUMER_PROCESS, [], {
    // --cpu-prof DIR: a V8 CPU profile of each consumer process (node dist-bench/bench/profile-summary.js FILE).
    execArgv: args['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', args['cpu-prof']] : [],
    env: {
      ...process.env,
      DATABASE_URL: url,
      ROLES: 'consumers',
      LOG_LEVEL: 'warn',
      JOBS_PREFIX: `bench_${randomBytes(4).toString('hex')}`,
      ...CONSUMERS[consumer].env,
    },
    stdio: ['ignore', 2, 'inherit', 'ipc'],
  });
  track(child);
  const stop = () => stopChild(child);
  const statements = () =>
    new Promise<number>((resolve) => {
      const answer = (msg: { sent?: number }) => {
        if (msg.sent === undefined) return;
        child.off('message', answer);
        resolve(msg.sent);
      };
      child.on('message', answer);
      child.send({ count: true });
    });
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve({ pid: child.pid!, statements, stop }));
    child.once('exit', (code) => reject(new Error(`consumer process exited with ${code} during start-up`)));
  });
}

/** The wake floor's process (bench/consumers/wake-floor-process.ts), once it listens. */
function startWakeFloor(url: string): Promise<{ pid: number; stop(): Promise<boolean> }> {
  const child = track(fork(WAKE_FLOOR_PROCESS, [], { env: { ...process.env, DATABASE_URL: url }, stdio: ['ignore', 2, 'inherit', 'ipc'] }));
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve({ pid: child.pid!, stop: () => stopChild(child) }));
    child.once('exit', (code) => reject(new Error(`wake floor process exited with ${code} during start-up`)));
  });
}

/** Whether every named checkpoint has reached the newest event. */
async function caughtUp(db: pg.Pool, names: readonly string[]): Promise<boolean> {
  const { rows } = await db.query<{ ok: boolean }>(
    `SELECT NOT EXISTS (
       SELECT 1 FROM unnest($1::text[]) n(name) LEFT JOIN checkpoints c ON c.name = n.name
        WHERE EXISTS (SELECT 1 FROM events e WHERE e.tx_node = 0 AND (c.tx_id IS NULL OR (e.tx_id, e.position) > (c.tx_id, c.position)))) AS ok`,
    [names],
  );
  return rows[0].ok;
}

async function waitCaughtUp(db: pg.Pool, names: readonly string[]): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!(await caughtUp(db, names))) {
    if (Date.now() > deadline) throw new Error(`${names.join(', ')}: not caught up after 120 s`);
    await sleep(5);
  }
}

interface Load {
  posts: number;
  /** Post commit to the projector's checkpoint covering it, ms (low rate, projector only). */
  followMs: number[];
}

async function main(): Promise<void> {
  const url = await keepAppTypeParsers(() => createBenchDatabase(args['database-server']!));
  const db = new pg.Pool({ connectionString: url, max: highClients + 4 });
  // Dropping the database at the end ends any connection still open; that is no error of the run.
  db.on('error', () => {});
  const store = new EventStore(db, loadConfig({ DATABASE_URL: url, LOG_LEVEL: 'warn' }));
  const chat = new ChatRepository(db, store);
  const figures: Figure[] = [];
  const ratios: Ratio[] = [];
  const lines: string[] = [];
  try {
    const data = await seed(url, highClients, channelCount);
    const run = await startRun(url);
    if (!cpuSupported) throw new Error('this benchmark reads /proc/<pid>/task/*/schedstat (Linux)');
    /** Posts one message to a random channel; returns its `channel:seq`. */
    const post = async (client: number) => {
      const channel = data.channels[Math.floor(Math.random() * data.channels.length)];
      const { seq } = await chat.postMessage({
        workspace: data.workspace,
        channel,
        user: data.users[client % data.users.length].id,
        text: `bench message from ${client}`,
      });
      return `${channel}:${seq}`;
    };

    /** Posts for `seconds`: one writer at `lowRate` per second, or `highClients` in a closed loop. */
    async function load(rate: 'low' | 'high', follow?: string, window = seconds): Promise<Load> {
      const until = performance.now() + window * 1000;
      let posts = 0;
      const followMs: number[] = [];
      const committed = new Map<string, number>();
      if (rate === 'low') {
        const start = performance.now();
        let watching = true;
        const watch = follow ? watchFollow(follow, committed, followMs, () => watching) : Promise.resolve();
        for (let i = 0; performance.now() < until; i++) {
          const due = start + (i * 1000) / lowRate;
          if (due > performance.now()) await sleep(due - performance.now());
          committed.set(await post(0), performance.now());
          posts++;
        }
        watching = false;
        await watch;
      } else {
        await Promise.all(
          Array.from({ length: highClients }, async (_, client) => {
            while (performance.now() < until) {
              await post(client);
              posts++;
            }
          }),
        );
      }
      await store.flushHints();
      return { posts, followMs };
    }

    /** Polls the checkpoint every 2 ms; each event newly covered gets its follow latency. */
    async function watchFollow(name: string, committed: Map<string, number>, out: number[], on: () => boolean): Promise<void> {
      let from: GlobalCursor = await store.loadCheckpoint(name);
      while (on() || committed.size) {
        const { rows } = await db.query<{ key: string; tx_id: string; position: string }>(
          `SELECT e.channel_id || ':' || e.seq AS key, e.tx_id::text, e.position FROM events e, checkpoints c
            WHERE c.name = $1 AND (e.tx_id, e.position) > ($2::xid8, $3::bigint) AND (e.tx_id, e.position) <= (c.tx_id, c.position)
            ORDER BY e.tx_id, e.position`,
          [name, from.txId, from.position],
        );
        const now = performance.now();
        for (const r of rows) {
          const at = committed.get(r.key);
          if (at !== undefined) out.push(now - at);
          committed.delete(r.key);
          from = { txId: r.tx_id, position: r.position };
        }
        if (!on() && !rows.length) await sleep(20);
        if (!on() && committed.size && !rows.length && (await caughtUp(db, [name]))) break;
        await sleep(2);
      }
    }

    // Baseline of the low rate, same load: a process that only wakes on the posts' NOTIFYs
    // (coalesced as the consumers coalesce them) and sends one statement per pass. What a woken
    // consumer costs here before doing any work.
    const lowLabel = `low rate (1 writer, ${lowRate}/s)`;
    let wakeFloor: Figure | undefined;
    if (!args.rate || args.rate === 'low') {
      await settle(url);
      const proc = await startWakeFloor(url);
      try {
        await load('low', undefined, warmup);
        const before = times([proc.pid]);
        const done = await load('low');
        await sleep(50); // the last pass
        wakeFloor = figure(
          `wake floor: CPU per event of a process that only wakes and sends one statement per pass, ${lowLabel}`,
          (times([proc.pid]).runNs - before.runNs) / 1000 / done.posts,
          'µs',
        );
        figures.push(wakeFloor);
        lines.push(
          `${'wake floor'.padEnd(15)} ${lowLabel.padEnd(32)} ${wakeFloor.value!.toFixed(1).padStart(7)} µs CPU/event (LISTEN, one statement per pass, nothing else)`,
        );
      } finally {
        await proc.stop();
      }
    }

    /** CPU of each consumer process in a quiet second (polls, timers), ms. */
    const idle: Record<string, number> = {};
    const consumers = (Object.keys(CONSUMERS) as Consumer[]).filter((c) => !args.only || c.startsWith(args.only));
    for (const consumer of consumers) {
      for (const rate of (['low', 'high'] as const).filter((r) => !args.rate || r === args.rate)) {
        await settle(url);
        const proc = await startConsumer(url, consumer);
        try {
          await waitCaughtUp(db, CONSUMERS[consumer].checkpoints);
          // Warm-up at the same rate: the JIT compiles the hot paths on threads of their own.
          await load(rate, undefined, warmup);
          await waitCaughtUp(db, CONSUMERS[consumer].checkpoints);
          const idleFrom = times([proc.pid]);
          await sleep(1000);
          idle[consumer] = (times([proc.pid]).runNs - idleFrom.runNs) / 1e6;
          const sentBefore = await proc.statements();
          const before = times([proc.pid]);
          const mainBefore = mainThread(proc.pid);
          const started = performance.now();
          const done = await load(rate, rate === 'low' && consumer === 'projector' ? 'unread' : undefined);
          await waitCaughtUp(db, CONSUMERS[consumer].checkpoints);
          const cpuNs = times([proc.pid]).runNs - before.runNs;
          const mainNs = mainThread(proc.pid).runNs - mainBefore.runNs;
          const statements = ((await proc.statements()) - sentBefore) / done.posts;
          const elapsed = (performance.now() - started) / 1000;
          const us = cpuNs / 1000 / done.posts;
          const label = rate === 'low' ? lowLabel : `${channelCount} channels x ${highClients} writers`;
          figures.push(
            figure(
              `${consumer} app CPU per event, ${label}`,
              us,
              'µs',
              { op: '<=', value: TARGET_US },
              rate === 'low'
                ? 'the fixed cost of a pass (a NOTIFY received, its round trips: read, moves+writes, COMMIT), shared only by the few events of one CONSUMER_PASS_GAP_MS' +
                    (wakeFloor
                      ? `; waking alone, with one statement per pass, costs ${wakeFloor.value!.toFixed(0)} µs per event on this machine (the wake floor)`
                      : '')
                : 'per event: the row and its body read and parsed (the bare read below), the projections’ work and statement parameters, GC (bench/consumers/pass-cost)',
            ),
          );
          figures.push(figure(`${consumer} statements per event, ${label}`, statements, 'statements'));
          lines.push(
            `${consumer.padEnd(15)} ${label.padEnd(32)} ${String(done.posts).padStart(7)} events  ${(done.posts / elapsed).toFixed(0).padStart(6)}/s  ` +
              `${us.toFixed(1).padStart(7)} µs CPU/event (${(mainNs / 1000 / done.posts).toFixed(1)} on the main thread)  ${statements.toFixed(2).padStart(6)} statements/event`,
          );
          lines.push(`${''.padEnd(15)} idle before: ${idle[consumer].toFixed(1)} ms CPU in a quiet second`);
          if (done.followMs.length) {
            const p50 = pct(done.followMs, 50);
            const p99 = pct(done.followMs, 99);
            figures.push(figure(`projector (unread) follow latency p50, ${label}`, p50, 'ms'));
            figures.push(figure(`projector (unread) follow latency p99, ${label}`, p99, 'ms', { op: '<=', value: 20 }));
            lines.push(`${''.padEnd(15)} unread follows a post: p50 ${p50?.toFixed(1)} ms, p99 ${p99?.toFixed(1)} ms`);
          }
        } finally {
          await proc.stop();
        }
      }
    }

    // Baseline: every event of the run read once by a bare readGlobal loop, in this process.
    const cpu = process.cpuUsage();
    let read = 0;
    for (let cursor: GlobalCursor = START; ;) {
      const events = await store.readGlobal(cursor, 1000);
      if (!events.length) break;
      read += events.length;
      cursor = parseCursor(events[events.length - 1].cursor)!;
    }
    const used = process.cpuUsage(cpu);
    const floor = figure('bare readGlobal loop CPU per event (batches of 1,000)', (used.user + used.system) / read, 'µs');
    figures.push(floor);
    for (const f of figures.filter((x) => x.unit === 'µs' && x !== floor && x !== wakeFloor))
      ratios.push(ratio(`${f.name} / bare read`, f, floor));
    if (wakeFloor)
      for (const f of figures.filter((x) => x.unit === 'µs' && x.name.endsWith(lowLabel) && x !== wakeFloor))
        ratios.push(ratio(`${f.name} / wake floor`, f, wakeFloor));

    process.stdout.write(
      [
        '',
        `bench:consumers  ${new Date().toISOString()}`,
        ...machineLines(run.machine),
        `${seconds} s per cell; each consumer alone in a ROLES=consumers process; CPU = that process, every thread`,
        ...lines,
        `${floor.name}: ${floor.value?.toFixed(1)} µs (${read} events)`,
        `target: ≤ ${TARGET_US} µs of app CPU per event for each consumer at both rates; unread follow p99 ≤ 20 ms at the low rate`,
        '',
      ].join('\n'),
    );
    writeResults(run, {
      benchmark: 'consumers',
      quick: args.quick!,
      figures,
      ratios,
      notes: [
        'CPU per event: the consumer process (every thread) from the first post until its checkpoints reach the last, over the events posted; idle polls and GC included',
        'the projector process runs both projections (unread, search-index); the dispatcher process the job-dispatch stream and its outbox passes',
      ],
    });
  } finally {
    await store.flushHints().catch(() => {});
    await db.end();
    if (!args.keep) await dropBenchDatabase(url).catch((err) => log(`could not drop the bench database: ${err}`));
  }
}

try {
  await main();
} finally {
  for (const child of children) child.kill('SIGKILL');
}
