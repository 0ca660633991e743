// node dist-bench/bench/append/stages.js [--rate 40] [--seconds 8] [--roles api,worker] [--floor]
// (after `npm run bench:append -- --help` or `tsc -p tsconfig.bench.json` has compiled bench/)
// Where the time of a single post at low load goes, stage by stage: one client posts on a fixed
// schedule to the real app (or, --floor, to the bare route of (e)) served in this script's child
// process, which marks each request as Fastify and pg see it (socket data, onRequest, preHandler,
// the post_message() query sent and answered, onSend, onResponse). Timestamps are absolute
// (timeOrigin + now) in both processes, so the hops between client and server show too.
import 'reflect-metadata';
import { fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { Pool } from 'undici';
import { percentile } from './load.js';
import { createBenchDatabase, dropBenchDatabase, seed } from './setup.js';

const now = () => performance.timeOrigin + performance.now();

/** What the server saw of one request, in absolute ms. */
interface Marks {
  data?: number;
  request: number;
  preHandler?: number;
  querySent?: number;
  queryDone?: number;
  send?: number;
  response?: number;
}

async function serve(): Promise<void> {
  const { loadConfig } = await import('../../src/config/config.js');
  const config = loadConfig();
  const marks: Marks[] = [];
  let current: Marks | undefined;
  // The post_message() round trip, as the driver sends and answers it.
  const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const m = current;
    if (m && (args[0] as { name?: string } | undefined)?.name === 'post-message') {
      m.querySent = now();
      const last = args.length - 1;
      const callback = args[last];
      if (typeof callback === 'function') args[last] = (...r: unknown[]) => ((m.queryDone = now()), callback(...r));
      else return (query.apply(this, args) as Promise<unknown>).finally(() => (m.queryDone = now()));
    }
    return query.apply(this, args);
  } as typeof pg.Client.prototype.query;

  let fastify: FastifyInstance;
  let listen: () => Promise<unknown>;
  let close: () => Promise<unknown>;
  if (process.env.STAGES_FLOOR) {
    // The bare route of (e) from floor-server.ts, built the same way.
    const { default: Fastify } = await import('fastify');
    const { NestFactory } = await import('@nestjs/core');
    const { AppModule } = await import('../../src/app.module.js');
    const { ChatService } = await import('../../src/api/chat/chat.service.js');
    const { WorkspacesService } = await import('../../src/workspaces/workspaces.service.js');
    const ctx = await NestFactory.createApplicationContext(AppModule.forRoot(config), { logger: false });
    const workspaces = ctx.get(WorkspacesService);
    const chat = ctx.get(ChatService);
    fastify = Fastify({ bodyLimit: config.BODY_LIMIT_BYTES });
    fastify.post('/api/chat.postMessage', async (req) => {
      const bearer = /^bearer\s+(.*)$/i.exec(req.headers.authorization ?? '');
      const caller = bearer ? await workspaces.authenticate(bearer[1].trim()) : undefined;
      if (!caller) return { ok: false, error: 'invalid_auth' };
      const body = req.body as { channel: string; text: string };
      return { ok: true, ...(await chat.postMessage(caller, { channel: body.channel, text: body.text })) };
    });
    listen = () => fastify.listen({ port: 0, host: '127.0.0.1' });
    close = () => Promise.allSettled([fastify.close(), ctx.close()]);
  } else {
    const { createApp } = await import('../../src/app.js');
    const app = await createApp(config);
    fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
    listen = () => app.listen(0, '127.0.0.1');
    close = () => app.close();
  }
  const lastData = new WeakMap<object, number>();
  fastify.addHook('onRequest', (req, _reply, done) => {
    current = { request: now(), data: lastData.get(req.raw.socket) };
    (req as unknown as { marks: Marks }).marks = current;
    done();
  });
  const mark = (key: 'preHandler' | 'send' | 'response') => (req: object) =>
    (((req as { marks?: Marks }).marks ?? ({} as Marks))[key] = now());
  fastify.addHook('preHandler', (req, _reply, done) => (mark('preHandler')(req), done()));
  fastify.addHook('onSend', (req, _reply, payload, done) => (mark('send')(req), done(null, payload)));
  fastify.addHook('onResponse', (req, _reply, done) => {
    mark('response')(req);
    marks.push((req as unknown as { marks: Marks }).marks);
    done();
  });
  await listen();
  // Before the HTTP parser's own listener, which emits the request synchronously.
  fastify.server.on('connection', (s) => s.prependListener('data', () => lastData.set(s, now())));
  process.send!({ port: (fastify.server.address() as { port: number }).port });
  process.on('message', (msg: { marks?: boolean; stop?: boolean }) => {
    if (msg.marks) process.send!({ marks: marks.splice(0) });
    if (msg.stop) void close().finally(() => process.exit(0));
  });
}

async function measure(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      rate: { type: 'string', default: '40' },
      seconds: { type: 'string', default: '8' },
      roles: { type: 'string' },
      floor: { type: 'boolean', default: false },
      'database-server': { type: 'string', default: process.env.BENCH_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432' },
    },
  });
  const rate = Number(args.rate);
  const seconds = Number(args.seconds);
  const url = await createBenchDatabase(args['database-server']!);
  try {
    const data = await seed(url, 1, 1);
    const env = {
      ...process.env,
      DATABASE_URL: url,
      PORT: '0',
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_MINUTE: '10000000',
      JOBS_PREFIX: `stages_${process.pid}`,
      ...(args.roles ? { ROLES: args.roles } : {}),
      ...(args.floor ? { STAGES_FLOOR: '1', ROLES: 'api', PROJECTOR_ENABLED: 'false', JOBS_DISPATCHER_ENABLED: 'false' } : {}),
    };
    const child = fork(fileURLToPath(import.meta.url), ['serve'], { env, stdio: ['ignore', 2, 'inherit', 'ipc'] });
    const reply = <T>() => new Promise<T>((resolve) => child.once('message', (m) => resolve(m as T)));
    const { port } = await reply<{ port: number }>();
    const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 1, pipelining: 1 });
    let n = 0;
    const post = async () => {
      const body = JSON.stringify({ channel: data.channels[0], text: `stages ${++n}` });
      const sent = now();
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${data.users[0].token}` };
      const res = await pool.request({ path: '/api/chat.postMessage', method: 'POST', headers, body });
      await res.body.text();
      return { sent, received: now() };
    };
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    for (const until = Date.now() + 1000; Date.now() < until;) await post(); // JIT, pools, caches
    await sleep(3000); // let the consumers (if any) apply the warm-up's posts
    child.send({ marks: true });
    await reply();
    const client: Array<{ sent: number; received: number }> = [];
    const start = performance.now();
    for (let i = 0; i < rate * seconds; i++) {
      await sleep(start + (i * 1000) / rate - performance.now());
      client.push(await post());
    }
    child.send({ marks: true });
    const { marks } = await reply<{ marks: Marks[] }>();
    child.send({ stop: true });
    await pool.close();
    const rows = client.map((c, i) => ({ c, m: marks[i] })).filter((r) => r.m?.queryDone !== undefined);
    const stage = (name: string, f: (r: (typeof rows)[number]) => number) => {
      const v = rows
        .map(f)
        .filter(Number.isFinite)
        .sort((x, y) => x - y);
      const q = (p: number) => percentile(v, p).toFixed(3).padStart(8);
      process.stdout.write(`${name.padEnd(40)} ${q(0.5)} ${q(0.9)} ${q(0.99)}\n`);
    };
    process.stdout.write(
      `${args.floor ? 'bare route (e)' : `app, ROLES=${args.roles ?? 'default'}`}: ${rows.length} posts at ${rate}/s, one at a time\n`,
    );
    process.stdout.write(`${'stage (ms)'.padEnd(40)} ${'p50'.padStart(8)} ${'p90'.padStart(8)} ${'p99'.padStart(8)}\n`);
    stage('client total', (r) => r.c.received - r.c.sent);
    stage('client sent -> server socket data', (r) => r.m.data! - r.c.sent);
    stage('socket data -> onRequest', (r) => r.m.request - r.m.data!);
    stage('onRequest -> preHandler', (r) => r.m.preHandler! - r.m.request);
    stage('preHandler -> post_message() sent', (r) => r.m.querySent! - r.m.preHandler!);
    stage('post_message() round trip', (r) => r.m.queryDone! - r.m.querySent!);
    stage('answered -> onSend', (r) => r.m.send! - r.m.queryDone!);
    stage('onSend -> onResponse', (r) => r.m.response! - r.m.send!);
    stage('onSend -> client has the answer', (r) => r.c.received - r.m.send!);
    stage('server, socket data -> onSend', (r) => r.m.send! - r.m.data!);
    stage('  of which not the round trip', (r) => r.m.send! - r.m.data! - (r.m.queryDone! - r.m.querySent!));
    await new Promise((resolve) => child.once('exit', resolve));
  } finally {
    await dropBenchDatabase(url);
  }
}

if (process.argv[2] === 'serve') await serve();
else await measure();
