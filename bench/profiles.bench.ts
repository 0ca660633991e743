// bench:profiles (issue 10): a profile change with N connected sockets of which 50 subscribe to the
// user (users.subscribe), beside broadcasting the same user_change to every socket; and client.boot
// for a user in 1,000 channels of a workspace of 100,000 users (p50/p99 over HTTP, payload size, its
// SQL alone, CPU per call of the database and of this process and the time they waited for a core).
// The app runs in this process (createApp), the sockets in client processes. Prints figures, never
// passes or fails (DESIGN.md section 5); writes bench/results/profiles.json.
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Server } from 'socket.io';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config/config.js';
import { UnreadCountsRepository } from '../src/projections/unread/unread-counts.repository.js';
import { Delivery } from '../src/realtime/delivery.js';
import { cpuSupported } from './append/cpu.js';
import { createBenchDatabase, dropBenchDatabase } from './append/setup.js';
import type { ProfileClientCommand, ProfileClientReport } from './profiles/clients.js';
import { limitingFactor, requestCpu } from './projections/request-cpu.js';
import { figure, machineLines, ratio, startRun, writeResults } from './results.js';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
if (flag('help')) {
  process.stdout.write(`npm run bench:profiles -- [--quick] [--sockets 10000] [--subscribers 50] [--users 100000]
  [--channels 1000] [--calls 300] [--workers 4] [--database-server postgres://...]
  --quick: 1,000 sockets, 10,000 users, 100 calls: for checking the harness, not for figures
  Writes bench/results/profiles.json.\n`);
  process.exit(0);
}
const quick = flag('quick');
const SOCKETS = Number(option('sockets', quick ? '1000' : '10000'));
const SUBSCRIBERS = Number(option('subscribers', '50'));
const USERS = Number(option('users', quick ? '10000' : '100000'));
const CHANNELS = Number(option('channels', '1000'));
const CALLS = Number(option('calls', quick ? '100' : '300'));
const WORKERS = Number(option('workers', '4'));
const SERVER = option('database-server', process.env.BENCH_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432');
const TOKENS = 100;
const ADMIN = `bench-admin-${randomBytes(8).toString('hex')}`;
const SQL_ALONE = 'bench-sql-alone';

const log = (line: string) => process.stderr.write(`${line}\n`);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quantile = (values: number[], q: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil(q * values.length) - 1)];

class ProfileClients {
  readonly procs: ChildProcess[] = [];
  constructor(n: number) {
    const file = fileURLToPath(new URL('./profiles/clients.js', import.meta.url));
    for (let i = 0; i < n; i++) this.procs.push(fork(file, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  }
  private ask(i: number, cmd: ProfileClientCommand): Promise<ProfileClientReport> {
    return new Promise((resolve) => {
      this.procs[i].once('message', (r: ProfileClientReport) => resolve(r));
      this.procs[i].send(cmd);
    });
  }
  async connect(url: string, sockets: Array<{ token: string; subscribe?: string }>) {
    const parts = this.procs.map((_, i) => sockets.filter((__, j) => j % this.procs.length === i));
    const replies = await Promise.all(parts.map((part, i) => this.ask(i, { type: 'connect', url, sockets: part, concurrency: 50 })));
    return replies.reduce((n, r) => n + (r.type === 'connected' ? r.ok : 0), 0);
  }
  /** Sockets reached, packets and bytes since the last report, over every process. */
  async report() {
    const replies = await Promise.all(this.procs.map((_, i) => this.ask(i, { type: 'report' })));
    return replies.reduce(
      (t, r) => (r.type === 'report' ? { sockets: t.sockets + r.sockets, packets: t.packets + r.packets, bytes: t.bytes + r.bytes } : t),
      { sockets: 0, packets: 0, bytes: 0 },
    );
  }
  /** Waits until `expected` sockets got the change, then a quiet second more for any extra. */
  async settle(expected: number) {
    let total = { sockets: 0, packets: 0, bytes: 0 };
    const deadline = Date.now() + 60_000;
    while (total.sockets < expected && Date.now() < deadline) {
      await pause(100);
      const r = await this.report();
      total = { sockets: total.sockets + r.sockets, packets: total.packets + r.packets, bytes: total.bytes + r.bytes };
    }
    await pause(1000);
    const r = await this.report();
    return { sockets: total.sockets + r.sockets, packets: total.packets + r.packets, bytes: total.bytes + r.bytes };
  }
  stop() {
    for (const p of this.procs) p.kill();
  }
}

async function main(): Promise<void> {
  const url = await createBenchDatabase(SERVER);
  try {
    await measure(url);
  } finally {
    await dropBenchDatabase(url).catch(() => {});
  }
}

async function measure(url: string): Promise<void> {
  const run = await startRun(url);
  for (const line of machineLines(run.machine)) log(line);
  const config = loadConfig({
    DATABASE_URL: url,
    ADMIN_TOKEN: ADMIN,
    LOG_LEVEL: 'silent',
    PORT: '0',
    RATE_LIMIT_PER_MINUTE: '10000000',
    // 10,000 sockets over 100 tokens: the per-user and per-token socket caps would stop it at 2,000.
    SOCKETS_PER_USER: '100000',
    SOCKETS_PER_TOKEN: '100000',
    JOBS_PREFIX: `bench_profiles_${randomBytes(4).toString('hex')}`,
  });
  const app = await createApp(config);
  await app.listen(0, '127.0.0.1');
  const appUrl = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const sqlPool = new pg.Pool({ connectionString: url, max: 2, application_name: SQL_ALONE });
  const clients = new ProfileClients(WORKERS);
  const call = async (method: string, token: string, body: Record<string, unknown> = {}) => {
    const res = await fetch(`${appUrl}/api/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    return { bytes: Buffer.byteLength(text), body: JSON.parse(text) as Record<string, any> };
  };
  const admin = async (path: string, body: unknown) => {
    const res = await fetch(`${appUrl}/admin/v1${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return (await res.json()) as Record<string, any>;
  };
  try {
    const ws = (await admin('/workspaces', { name: 'Bench' })).id as string;
    const tokens: Array<{ id: string; token: string }> = [];
    for (let i = 0; i < TOKENS; i++) {
      const u = await admin(`/workspaces/${ws}/users`, { name: `u${i}`, role: 'member' });
      tokens.push({ id: u.user.id, token: u.token });
    }
    const target = await admin(`/workspaces/${ws}/users`, { name: 'target', role: 'member' });

    // ---- user_change by subscription vs broadcast ----
    log(`connecting ${SOCKETS} sockets (${SUBSCRIBERS} subscribe to the target)...`);
    const specs = Array.from({ length: SOCKETS }, (_, i) => ({
      token: tokens[i % TOKENS].token,
      subscribe: i < SUBSCRIBERS ? target.user.id : undefined,
    }));
    // Subscribers first, spread over the processes by the round robin.
    const connected = await clients.connect(appUrl, specs);
    log(`connected ${connected}`);
    await clients.report();
    await call('users.profile.set', target.token, { profile: { status_text: 'benchmarking', status_emoji: ':stopwatch:' } });
    const sub = await clients.settle(SUBSCRIBERS);
    // Baseline: the same packet to every socket, through the app's own Socket.IO server.
    const info = await call('users.info', target.token, { user: target.user.id });
    const server = (app.get(Delivery) as unknown as { server: Server }).server;
    server.emit('user_change', { type: 'user_change', user: info.body.user });
    const all = await clients.settle(connected);
    log(`subscription: ${sub.sockets} sockets, ${sub.bytes} bytes; broadcast: ${all.sockets} sockets, ${all.bytes} bytes`);

    // ---- client.boot ----
    log(`seeding ${USERS} users and ${CHANNELS} channels...`);
    const me = tokens[0];
    const poster = tokens[1];
    await pool.query(
      `INSERT INTO users (id, workspace_id, name, role)
       SELECT 'UB' || lpad(i::text, 9, '0'), $1, 'bulk' || i, 'member' FROM generate_series(1, $2) i`,
      [ws, USERS],
    );
    await pool.query(
      `INSERT INTO channels (id, workspace_id, name, is_private, creator)
       SELECT 'CB' || lpad(i::text, 9, '0'), $1, 'boot-' || i, false, $2 FROM generate_series(1, $3) i`,
      [ws, me.id, CHANNELS],
    );
    await pool.query(
      `INSERT INTO channel_members (channel_id, user_id, joined_seq)
       SELECT 'CB' || lpad(i::text, 9, '0'), u, 0 FROM generate_series(1, $3) i, unnest(ARRAY[$1, $2]) u`,
      [me.id, poster.id, CHANNELS],
    );
    // One message in every channel, a mention in every tenth: unread and mention counts to compute.
    for (let i = 1; i <= CHANNELS; i++) {
      const channel = `CB${String(i).padStart(9, '0')}`;
      await call('chat.postMessage', poster.token, { channel, text: i % 10 ? `news ${i}` : `<@${me.id}> news ${i}` });
    }
    const deadline = Date.now() + 120_000;
    for (;;) {
      const counts = await call('client.counts', me.token);
      const unread = (counts.body.channels as Array<{ unread_count: number }>).reduce((n, c) => n + c.unread_count, 0);
      if (unread >= CHANNELS || Date.now() > deadline) break;
      await pause(200);
    }
    // Steady state, as bench:projections measures client.counts: autovacuum keeps the statistics and
    // the visibility map of live tables current (the count's index-only scans rely on the latter);
    // the rows were all written a moment ago.
    await pool.query('VACUUM ANALYZE channel_members, channels, unread_messages, unread_channels');
    for (let i = 0; i < 20; i++) await call('client.boot', me.token);
    const latencies: number[] = [];
    let payload = 0;
    let channels = 0;
    const cpu = cpuSupported ? await requestCpu(url) : undefined;
    for (let i = 0; i < CALLS; i++) {
      const start = performance.now();
      const res = await call('client.boot', me.token);
      latencies.push(performance.now() - start);
      payload = res.bytes;
      channels = res.body.channels.length;
    }
    const perCall = await cpu?.stop(CALLS);
    // Its SQL alone: the counting query that also writes the entries, on connections of its own
    // (the app keeps working in the background: its projector, dispatcher and sockets).
    const repo = new UnreadCountsRepository(sqlPool);
    for (let i = 0; i < 5; i++) await repo.bootEntriesForUser(me.id, ws, { limit: CHANNELS + 1 });
    const sqlTimes: number[] = [];
    const sqlCpu = cpuSupported ? await requestCpu(url, SQL_ALONE) : undefined;
    for (let i = 0; i < CALLS; i++) {
      const start = performance.now();
      await repo.bootEntriesForUser(me.id, ws, { limit: CHANNELS + 1 });
      sqlTimes.push(performance.now() - start);
    }
    const perSql = await sqlCpu?.stop(CALLS);
    const p50 = quantile(latencies, 0.5);
    const p99 = quantile(latencies, 0.99);
    const sql99 = quantile(sqlTimes, 0.99);
    const limit = perCall ? limitingFactor(perCall, { p99: sql99, dbMs: perSql?.dbMs }) : `its SQL alone: p99 ${sql99.toFixed(1)} ms`;
    log(`client.boot: ${channels} channels, ${payload} bytes, p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms; ${limit}`);

    const subBytes = figure('user_change bytes, subscription', sub.bytes, 'B');
    const allBytes = figure('user_change bytes, broadcast to every socket', all.bytes, 'B');
    const figures = [
      figure('connected sockets', connected, 'sockets', { op: '>=', value: SOCKETS }),
      figure('sockets reached, subscription', sub.sockets, 'sockets', { op: '<=', value: SUBSCRIBERS }),
      figure('subscribed sockets not reached', SUBSCRIBERS - sub.sockets, 'sockets', { op: '<=', value: 0 }),
      subBytes,
      figure('sockets reached, broadcast', all.sockets, 'sockets'),
      allBytes,
      figure(`client.boot p50, user in ${CHANNELS} channels, ${USERS} users`, p50, 'ms'),
      figure(`client.boot p99, user in ${CHANNELS} channels, ${USERS} users`, p99, 'ms', { op: '<=', value: 20 }, limit),
      figure(`client.boot SQL alone, p50`, quantile(sqlTimes, 0.5), 'ms'),
      figure(`client.boot SQL alone, p99`, sql99, 'ms'),
      ...(perCall
        ? [
            figure('client.boot database CPU per call (the app in the background included)', perCall.dbMs, 'ms'),
            ...(perSql ? [figure('client.boot SQL alone, database CPU per call', perSql.dbMs, 'ms')] : []),
            figure('client.boot app process CPU per call (fetch client included)', perCall.appMs, 'ms'),
            figure('client.boot time waiting for a core per call (app and database)', perCall.dbWaitMs + perCall.appWaitMs, 'ms'),
          ]
        : []),
      figure('client.boot payload', payload, 'B'),
    ];
    writeResults(run, {
      benchmark: 'profiles',
      quick,
      figures,
      ratios: [ratio('subscription bytes / broadcast bytes', subBytes, allBytes, { op: '<=', value: 0.01 })],
      notes: [
        `${SOCKETS} sockets over ${TOKENS} users in ${WORKERS} client processes; ${SUBSCRIBERS} subscribed to the changed user. Bytes: the Socket.IO frames the clients received.`,
        `client.boot: ${CALLS} sequential calls over HTTP after 20 warm-up calls; one message in each channel, a mention in every tenth.`,
      ],
    });
  } finally {
    clients.stop();
    await pool.end();
    await sqlPool.end();
    await app.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    log(String(err?.stack ?? err));
    process.exit(1);
  },
);
