// bench:fanout (issue 3): post -> last receipt over Socket.IO, beside a plain Socket.IO broadcast to
// the same number of sockets in the same run; many channels at a fixed post rate; server RSS per
// idle connection; catch-up of 10,000 missed events. Server, baseline server and clients run in
// separate processes. Prints figures, never passes or fails (DESIGN.md section 5); writes
// bench/results/fanout.json.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { backendPids, mainThread, times } from './append/cpu.js';
import { children } from './append/processes.js';
import { PARTS, partShares } from './append/parts.js';
import { loadAverage } from './append/report.js';
import { createBenchDatabase, dropBenchDatabase } from './append/setup.js';
import { Clients, type ServerProcess, startServer } from './fanout/processes.js';
import { seed } from './fanout/seed.js';
import { type Figure, figure, machineLines, type Ratio, ratio, startRun, writeResults } from './results.js';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
if (flag('help')) {
  process.stdout.write(`npm run bench:fanout -- [--quick] [--sizes 2000,10000] [--posts 30] [--rate 500] [--seconds 10]
  [--catchup 10000] [--catchup-runs 20] [--workers 4] [--database-server postgres://...]
  [--sweep-steps 4] [--cpu-prof DIR]
  (--sizes 0 skips the one-channel rows, --rate 0 the many-channel row, --catchup-runs 0 the catch-up;
  a many-channel row that misses p99 <= 50 ms / ack p99 <= 30 ms is run again --sweep-steps times at rates
  bisecting 0 and --rate, half of it first, and the highest rate that meets both is reported with the CPU per post)
  --cpu-prof DIR: a V8 CPU profile of the app over each measured window into DIR, and its app CPU by part
  in the results (summarise one with: node dist-bench/bench/profile-summary.js FILE)
  --quick: sizes 500,2000, 10 posts, 3 s, 5 catch-up runs: for checking the harness, not for figures
  Writes bench/results/fanout.json.\n`);
  process.exit(0);
}
const quick = flag('quick');
const SIZES = option('sizes', quick ? '500,2000' : '2000,10000')
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
const POSTS = Number(option('posts', quick ? '10' : '30'));
const RATE = Number(option('rate', '500'));
const SECONDS = Number(option('seconds', quick ? '3' : '10'));
const CATCHUP = Number(option('catchup', '10000'));
const CATCHUP_RUNS = Number(option('catchup-runs', quick ? '5' : '20'));
const WORKERS = Number(option('workers', '4'));
const SERVER = option('database-server', process.env.BENCH_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432');
const BIG_USERS = 100;
/**
 * Posts (and baseline broadcasts) sent before each one-channel row is measured: the first sends to
 * thousands of sockets run cold code in the server and in the client processes (which the baseline,
 * measured second, would otherwise find warm), and those few cold sends were the rows' p99.
 */
const WARMUP = 10;
const MANY_CHANNELS = 200;
const MANY_SOCKETS = 1000;
/** Lower rates tried (each half the last) when the many-channel row misses its p99 targets. */
const SWEEP_STEPS = Number(option('sweep-steps', quick ? '1' : '4'));
const PROFILES = option('cpu-prof', '');
if (PROFILES) mkdirSync(PROFILES, { recursive: true });

const now = () => performance.timeOrigin + performance.now();
const log = (line: string) => process.stderr.write(`${line}\n`);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

function quantile(values: number[], q: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

async function post(appUrl: string, token: string, channel: string, text: string): Promise<void> {
  const res = await fetch(`${appUrl}/api/chat.postMessage`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ channel, text }),
  });
  const body = (await res.json()) as { ok: boolean; error?: string };
  if (!body.ok) throw new Error(`chat.postMessage: ${body.error}`);
}

/** The PostgreSQL backends serving the bench database now (the app's pool and relay). */
async function appBackends(url: string): Promise<number[]> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    return await backendPids(db);
  } finally {
    await db.end();
  }
}

/** Nanoseconds the process's JavaScript thread ran or waited for a core. */
const mainThreadOf = (pid: number) => {
  const t = mainThread(pid);
  return { main: t.runNs + t.waitNs, mainRun: t.runNs };
};

/** App CPU per post by part of the app (from the window's CPU profile), when profiled. */
function partFigures(parts: ReturnType<typeof partShares>, appUs: number, at: string): Figure[] {
  if (!parts) return [];
  const figures = PARTS.filter((p) => parts[p] > 0).map((p) => figure(`app CPU per post: ${p}, ${at}`, parts[p] * appUs, 'µs'));
  log(
    `  app CPU per post by part: ${figures.map((f) => `${f.name.split(':')[1].split(',')[0].trim()} ${fmt(f.value ?? NaN, 0)}`).join('; ')}`,
  );
  return figures;
}

// ---- main ----

const fmt = (v: number, digits = 1) => (Number.isNaN(v) ? '-' : v.toFixed(digits));

async function main(): Promise<void> {
  const url = await createBenchDatabase(SERVER);
  const clients = new Clients(WORKERS);
  let app: ServerProcess | undefined;
  let plain: ServerProcess | undefined;
  const stopAll = async () => {
    clients.stop();
    await plain?.stop();
    await app?.stop();
    await dropBenchDatabase(url).catch(() => {});
  };
  process.once('SIGINT', () => void stopAll().finally(() => process.exit(130)));
  try {
    const run = await startRun(url);
    const machine = machineLines(run.machine);
    const figures: Figure[] = [];
    const ratios: Ratio[] = [];
    log('seeding...');
    const data = await seed(url, { bigUsers: BIG_USERS, manyChannels: MANY_CHANNELS, catchup: CATCHUP });
    app = await startServer('./app-server.js', {
      DATABASE_URL: url,
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_MINUTE: '10000000',
      // 10,000 sockets over BIG_USERS tokens: the per-user and per-token socket caps would stop it early.
      SOCKETS_PER_USER: '100000',
      SOCKETS_PER_TOKEN: '100000',
      ROLES: 'api',
      PORT: '0',
      PROJECTOR_ENABLED: 'false',
      JOBS_DISPATCHER_ENABLED: 'false',
      JOBS_PREFIX: `bench_${randomBytes(4).toString('hex')}`,
    });
    plain = await startServer('./plain-server.js');
    await pause(1000);

    /**
     * MANY_CHANNELS channels x MANY_SOCKETS sockets, posts at `rate` a second for SECONDS, open loop:
     * latency from the scheduled send to the last socket, the posts' acks, and the CPU the app
     * process and its PostgreSQL backends spent per post over the window (/proc).
     */
    const manyChannels = async (rate: number) => {
      const manySockets = Array.from({ length: MANY_SOCKETS }, (_, i) => {
        const c = data.many[i % MANY_CHANNELS];
        return { token: c.user.token, channel: c.channel };
      });
      const connected = await clients.connect(app!.url, manySockets);
      const perChannel = connected / MANY_CHANNELS;
      const lat: number[] = [];
      const acked: number[] = [];
      const sends: Array<Promise<void>> = [];
      let failed = 0;
      let undelivered = 0;
      let failure: string | undefined;
      const total = rate * SECONDS;
      // Unmeasured first: one post to every channel, 20 at a time, so the window starts on warm code (see WARMUP).
      for (let i = 0; i < MANY_CHANNELS; i += 20) {
        await Promise.all(
          data.many.slice(i, i + 20).map(async (c, j) => {
            const key = `warm-${rate}-${i + j}`;
            const arrived = clients.expect(key, perChannel, 30_000).catch(() => NaN);
            await post(app!.url, data.poster.token, c.channel, key);
            await arrived;
          }),
        );
      }
      const dbPids = await appBackends(url);
      await app!.window({ window: 'start', profile: PROFILES ? `${PROFILES}/many-${rate}.cpuprofile` : undefined });
      const db0 = new Map(dbPids.map((pid) => [pid, times([pid]).runNs]));
      const cpu0 = { app: times([app!.pid]).runNs, ...mainThreadOf(app!.pid), at: now() };
      const start = now() + 100;
      for (let i = 0; i < total; i++) {
        const at = start + (i * 1000) / rate;
        const wait = at - now();
        if (wait > 1) await pause(wait);
        const c = data.many[i % MANY_CHANNELS];
        const key = `many-${rate}-${i}`;
        const arrived = clients.expect(key, perChannel, 30_000).catch(() => NaN);
        sends.push(
          post(app!.url, data.poster.token, c.channel, key).then(
            async () => {
              acked.push(now() - at);
              const last = await arrived;
              if (Number.isNaN(last)) undelivered++;
              else lat.push(last - at);
            },
            (err: Error) => {
              failed++;
              failure ??= err.message;
            },
          ),
        );
      }
      await Promise.allSettled(sends);
      // Each backend's run time at the end less at the start; one the pools opened during the window
      // counts whole. One that closed during the window took its run time with it: left out (a lower
      // bound), where subtracting its start made the sum negative at low rates.
      let dbNs = 0;
      for (const pid of await appBackends(url)) dbNs += times([pid]).runNs - (db0.get(pid) ?? 0);
      const cpu1 = { app: times([app!.pid]).runNs, ...mainThreadOf(app!.pid), at: now() };
      const window = (await app!.window({ window: 'stop' }))!;
      await clients.close();
      if (failure) log(`  first failed post: ${failure}`);
      const posted = total - failed;
      const appUs = (cpu1.app - cpu0.app) / 1000 / posted;
      const dbUs = dbNs / 1000 / posted;
      // Running or waiting for a core; the running part alone says whether the thread or the box's cores limit.
      const serverBusy = (cpu1.main - cpu0.main) / 1e6 / (cpu1.at - cpu0.at);
      const serverRunning = (cpu1.mainRun - cpu0.mainRun) / 1e6 / (cpu1.at - cpu0.at);
      // The JavaScript thread's own CPU per post: one thread, so 1e6 / mainUs posts/s is this node's ceiling.
      const mainUs = (cpu1.mainRun - cpu0.mainRun) / 1000 / posted;
      const statements = Object.values(window.statements).reduce((a, b) => a + b, 0) / posted;
      log(
        `  statements: ${Object.entries(window.statements)
          .sort((a, b) => b[1] - a[1])
          .slice(0, 6)
          .map(([text, n]) => `${fmt(n / posted, 2)}/post ${text.slice(0, 60)}`)
          .join('; ')}`,
      );
      const row = [
        `${MANY_CHANNELS} channels x ${perChannel} sockets, ${rate} posts/s`,
        fmt(quantile(lat, 0.5)),
        fmt(quantile(lat, 0.99)),
        fmt(quantile(acked, 0.5)),
        fmt(quantile(acked, 0.99)),
        `${lat.length}/${total}`,
        `${failed}`,
        `${undelivered}`,
        fmt(appUs, 0),
        fmt(mainUs, 0),
        fmt(dbUs, 0),
        fmt(statements, 2),
        `${Math.round(100 * serverBusy)}% (${Math.round(100 * serverRunning)}% running)`,
        fmt(window.loop.p99),
      ];
      log(`  ${row.join(' | ')}`);
      const meets = !failed && !undelivered && quantile(lat, 0.99) <= 50 && quantile(acked, 0.99) <= 30;
      return {
        at: `${MANY_CHANNELS} channels x ${perChannel} sockets at ${rate} posts/s`,
        rate,
        lat,
        acked,
        failed,
        undelivered,
        appUs,
        mainUs,
        dbUs,
        statements,
        serverBusy,
        serverRunning,
        loop: window.loop,
        parts: window.profile ? partShares(window.profile, 0) : undefined,
        meets,
        row,
      };
    };

    const rows: string[][] = [];
    for (const size of SIZES) {
      // ours
      const appBefore = await app.rss();
      const ours = await clients.connect(
        app.url,
        Array.from({ length: size }, (_, i) => ({ token: data.big.users[i % BIG_USERS].token, channel: data.big.channel })),
      );
      await pause(2000);
      const appPerConn = ((await app.rss()) - appBefore) / ours / 1024;
      const oursLat: number[] = [];
      const acks: number[] = []; // the post's own HTTP round trip (request, commit, answer)
      let bigCpu0 = 0;
      const warm: number[] = [];
      for (let k = -WARMUP; k < POSTS; k++) {
        if (k === 0) {
          await app.window({ window: 'start', profile: PROFILES ? `${PROFILES}/one-channel-${size}.cpuprofile` : undefined });
          bigCpu0 = times([app.pid]).runNs;
        }
        const key = `big-${size}-${k}`;
        const arrived = clients.expect(key, ours);
        const t0 = now();
        await post(app.url, data.poster.token, data.big.channel, key);
        const acked = now() - t0;
        const last = (await arrived) - t0;
        if (k >= 0) {
          acks.push(acked);
          oursLat.push(last);
        } else warm.push(last);
        await pause(20);
      }
      const bigAppUs = (times([app.pid]).runNs - bigCpu0) / 1000 / POSTS;
      const bigWindow = (await app.window({ window: 'stop' }))!;
      await clients.close();
      // plain Socket.IO broadcast to as many sockets
      const plainBefore = await plain.rss();
      const plainN = await clients.connect(
        plain.url,
        Array.from({ length: size }, () => ({ channel: 'plain' })),
      );
      await pause(2000);
      const plainPerConn = ((await plain.rss()) - plainBefore) / plainN / 1024;
      const plainLat: number[] = [];
      for (let k = -WARMUP; k < POSTS; k++) {
        const key = `plain-${size}-${k}`;
        const arrived = clients.expect(key, plainN);
        const t0 = now();
        plain.send({
          broadcast: { channel: 'plain', seq: k + 1 + WARMUP, ts: '1764150000.000001', type: 'message', user: data.poster.id, text: key },
        });
        const last = (await arrived) - t0;
        if (k >= 0) plainLat.push(last);
        await pause(20);
      }
      await clients.close();
      const p50 = quantile(oursLat, 0.5);
      const p99 = quantile(oursLat, 0.99);
      const b50 = quantile(plainLat, 0.5);
      const b99 = quantile(plainLat, 0.99);
      const at = `1 channel x ${size.toLocaleString('en-US')} sockets`;
      const oursAt = (q: string, v: number) => figure(`post -> last socket, ${at}, ${q}`, v, 'ms');
      const plainAt = (q: string, v: number) => figure(`plain Socket.IO broadcast -> last socket, ${at}, ${q}`, v, 'ms');
      for (const [q, o, b, ack] of [
        ['p50', p50, b50, quantile(acks, 0.5)],
        ['p99', p99, b99, quantile(acks, 0.99)],
      ] as const) {
        figures.push(oursAt(q, o), plainAt(q, b), figure(`post ack, ${at}, ${q}`, ack, 'ms'));
        // Most of the extra time already passed before the broadcast began: the post itself limits the ratio.
        const limit = ack >= (o - b) / 2 ? `the post itself: its HTTP answer took ${fmt(ack)} of the ${fmt(o)} ms` : undefined;
        ratios.push(
          ratio(`post -> last socket / plain broadcast, ${at}, ${q}`, oursAt(q, o), plainAt(q, b), { op: '<=', value: 1.5 }, limit),
        );
      }
      figures.push(
        figure(`app event-loop delay, ${at}, p99`, bigWindow.loop.p99, 'ms'),
        figure(`app event-loop delay, ${at}, max`, bigWindow.loop.max, 'ms'),
        figure(`server CPU per post (app process), ${at}`, bigAppUs, 'µs'),
        ...partFigures(bigWindow.profile ? partShares(bigWindow.profile, 0) : undefined, bigAppUs, at),
        figure(`memory per idle connection, ${size.toLocaleString('en-US')} sockets`, appPerConn, 'KB', { op: '<=', value: 30 }),
        figure(`memory per idle connection, plain Socket.IO, ${size.toLocaleString('en-US')} sockets`, plainPerConn, 'KB'),
      );
      rows.push([
        at,
        fmt(p50),
        fmt(p99),
        fmt(b50),
        fmt(b99),
        fmt(p50 / b50, 2),
        fmt(p99 / b99, 2),
        `${fmt(appPerConn)} / ${fmt(plainPerConn)}`,
      ]);
      log(`  ${rows.at(-1)!.join(' | ')}`);
      log(
        `  post acks p50 ${fmt(quantile(acks, 0.5))} / max ${fmt(Math.max(...acks))} ms; app event-loop delay p99 ${fmt(bigWindow.loop.p99)} / max ${fmt(bigWindow.loop.max)} ms; ` +
          `ours by post: ${warm.map((v) => fmt(v, 0)).join(' ')} (warm-up) ${oursLat.map((v) => fmt(v, 0)).join(' ')}`,
      );
    }

    const manyRows: string[][] = [];
    if (RATE > 0) {
      const first = await manyChannels(RATE);
      const at = first.at;
      const ack99 = quantile(first.acked, 0.99);
      figures.push(
        figure(`post -> last socket, ${at}, p50`, quantile(first.lat, 0.5), 'ms'),
        figure(
          `post -> last socket, ${at}, p99`,
          quantile(first.lat, 0.99),
          'ms',
          { op: '<=', value: 50 },
          ack99 > 50 ? `the write path: the post acks alone reach p99 ${Math.round(ack99).toLocaleString('en-US')} ms` : undefined,
        ),
        figure(
          `post ack, ${at}, p99`,
          ack99,
          'ms',
          { op: '<=', value: 30 },
          first.serverBusy >= 0.9
            ? `the server's JavaScript thread, busy ${Math.round(100 * first.serverBusy)}% of the window ` +
                `(running ${Math.round(100 * first.serverRunning)}%, the rest waiting for a core)`
            : undefined,
        ),
        figure(`posts failed or not delivered within 30 s, ${at}`, first.undelivered + first.failed, 'posts'),
        figure(`server CPU per post (app process), ${at}`, first.appUs, 'µs'),
        figure(`app JavaScript thread CPU per post, ${at}`, first.mainUs, 'µs'),
        figure(
          `posts/s one app process could take at most (1e6 / its JavaScript thread's µs per post), ${at}`,
          1e6 / first.mainUs,
          'posts/s',
        ),
        figure(`SQL statements per post (app), ${at}`, first.statements, 'statements'),
        figure(`PostgreSQL CPU per post (the app's backends), ${at}`, first.dbUs, 'µs'),
        figure(`app event-loop delay, ${at}, p99`, first.loop.p99, 'ms'),
        figure(`app event-loop delay, ${at}, max`, first.loop.max, 'ms'),
        ...partFigures(first.parts, first.appUs, at),
      );
      manyRows.push(first.row);
      // Missed: bisect the rate between 0 and RATE (SWEEP_STEPS runs, half of RATE first) for the
      // highest that meets both p99 targets, to say what this box sustains; halving alone could only
      // say 250 where 400 holds.
      let best = first.meets ? first : undefined;
      if (!best) {
        let [meets, misses] = [0, RATE];
        for (let step = 0; step < SWEEP_STEPS; step++) {
          const rate = Math.round((meets + misses) / 20) * 10;
          if (rate < 10 || rate <= meets || rate >= misses) break;
          const r = await manyChannels(rate);
          manyRows.push(r.row);
          if (r.meets) [best, meets] = [r, rate];
          else misses = rate;
        }
      }
      figures.push(
        figure(
          `highest rate tried with post -> last socket p99 <= 50 ms and post ack p99 <= 30 ms, ${MANY_CHANNELS} channels`,
          best?.rate ?? 0,
          'posts/s',
          { op: '>=', value: RATE },
          `the server's CPU: ${Math.round(first.appUs)} µs of app (${Math.round(first.mainUs)} µs on its one JavaScript thread) and ` +
            `${Math.round(first.dbUs)} µs of PostgreSQL CPU per post at ${RATE} posts/s, on ${cpus().length} cores shared with the load generator, ` +
            `the socket clients (${WORKERS} processes) and load ${loadAverage()}`,
        ),
      );
      if (best && best !== first)
        figures.push(
          figure(`post -> last socket, ${best.at}, p99`, quantile(best.lat, 0.99), 'ms'),
          figure(`post ack, ${best.at}, p99`, quantile(best.acked, 0.99), 'ms'),
        );
    }

    // catch-up
    const catchMs: number[] = [];
    for (let r = 0; r < CATCHUP_RUNS; r++)
      catchMs.push(await clients.catchUp(app.url, data.catchup.user.token, data.catchup.channel, CATCHUP));
    const c50 = quantile(catchMs, 0.5);
    const c99 = quantile(catchMs, 0.99);
    if (CATCHUP_RUNS > 0) {
      figures.push(
        figure(`catch-up of ${CATCHUP.toLocaleString('en-US')} missed events, p50`, c50, 'ms'),
        figure(
          `catch-up of ${CATCHUP.toLocaleString('en-US')} missed events, p99`,
          c99,
          'ms',
          CATCHUP === 10_000 ? { op: '<=', value: 1000 } : undefined,
        ),
      );
    }

    const out = [
      '',
      'bench:fanout — atomcast Socket.IO fan-out (issue 3)',
      ...machine,
      `load avg:   ${loadAverage()} (at the end)`,
      `clients:    ${WORKERS} processes (socket.io-client, websocket transport); server and baseline in their own processes`,
      '',
      '| one channel | ours p50 ms | ours p99 ms | plain p50 ms | plain p99 ms | p50 ratio | p99 ratio | KB/conn ours / plain |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      ...rows.map((r) => `| ${r.join(' | ')} |`),
      '',
      '| many channels | p50 ms | p99 ms | post ack p50 ms | post ack p99 ms | delivered | failed posts | not delivered in 30 s | app µs/post | app JS thread µs/post | db µs/post | SQL statements/post | app JS thread busy (running or waiting for a core) | event-loop delay p99 ms |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...manyRows.map((r) => `| ${r.join(' | ')} |`),
      '',
      '| catch-up | events | runs | p50 ms | p99 ms | events/s at p50 |',
      '| --- | --- | --- | --- | --- | --- |',
      `| one socket syncs from 0 | ${CATCHUP} | ${CATCHUP_RUNS} | ${fmt(c50)} | ${fmt(c99)} | ${fmt((CATCHUP / c50) * 1000, 0)} |`,
      '',
      `latency = post sent (chat.postMessage over HTTP; for the baseline, the broadcast command) -> the last socket's receipt; ${POSTS} posts per row, one at a time, after ${WARMUP} unmeasured ones.`,
      'targets: ratio <= 1.5; many-channel p99 <= 50 ms and post ack p99 <= 30 ms (missed: rates below are bisected for the highest that meets both); <= 30 KB per idle connection; catch-up of 10,000 events p99 <= 1 s.',
      '',
    ];
    process.stdout.write(out.join('\n'));
    writeResults(run, {
      benchmark: 'fanout',
      quick,
      figures,
      ratios,
      notes: [`${POSTS} posts per one-channel row, one at a time; many channels open loop for ${SECONDS} s; ${WORKERS} client processes`],
    });
  } finally {
    await stopAll();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:fanout failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  for (const c of children) c.kill('SIGKILL');
  process.exit(1);
});
