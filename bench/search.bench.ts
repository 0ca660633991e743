// npm run bench:search [-- --quick | --messages 1000000 --requests 200 --lag-seconds 20]
// Issue 11's search benchmark, in one run on one fresh database: search.messages p50/p99 over HTTP
// on N messages in 100 channels, once in a plain workspace and once in an EKM workspace (keyed
// blind tokens); the index build rate through the projection's rebuild; index lag behind posts at
// 500 posts/s. Baselines of the same run: auth.test over HTTP (the request path's floor) and the
// plain workspace for the blind one. --quick (100,000 messages) checks the harness.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config/config.js';
import { SearchKeys } from '../src/crypto/search-keys.js';
import { createPool, migrate } from '../src/db/database.js';
import { EventStore } from '../src/event-store/event-store.js';
import { JobQueues } from '../src/jobs/job-queues.js';
import { QUEUES } from '../src/jobs/queues.js';
import type { Projection } from '../src/projections/projection.js';
import { Projector } from '../src/projections/projector.js';
import { rebuildProjection } from '../src/projections/rebuild.js';
import { SearchIndexProjection } from '../src/projections/search-index/search-index.projection.js';
import { UnreadProjection } from '../src/projections/unread/unread.projection.js';
import { SearchService } from '../src/api/search/search.service.js';
import { ChatRepository } from '../src/api/chat/chat.repository.js';
import { BodyCipher } from '../src/crypto/body-cipher.js';
import type { Caller } from '../src/workspaces/workspaces.service.js';
import { issueToken } from '../src/workspaces/tokens.js';
import { type Figure, figure, machineLines, type Ratio, ratio, startRun, writeResults } from './results.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    messages: { type: 'string' },
    requests: { type: 'string' },
    'lag-seconds': { type: 'string' },
    rate: { type: 'string', default: '500' },
    'database-server': { type: 'string', default: process.env.BENCH_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432' },
    keep: { type: 'boolean', default: false },
  },
});
const quick = args.quick;
const MESSAGES = Number(args.messages ?? (quick ? 100_000 : 1_000_000));
const CHANNELS = 100;
const USERS = 200;
const VOCABULARY = 20_000;
const REQUESTS = Number(args.requests ?? (quick ? 60 : 200));
const LAG_SECONDS = Number(args['lag-seconds'] ?? (quick ? 4 : 20));
const RATE = Number(args.rate);
const log = (line: string) => process.stderr.write(`${line}\n`);
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/**
 * `n` messages of 12 words each over the channels, 5 seconds apart, written straight into events
 * and messages with SQL (one transaction per chunk, like busy writers), then the channel heads.
 * Word k of the vocabulary is drawn with probability falling as a power law, as words of real
 * text do: a few are in most messages, most are rare.
 */
async function seedMessages(pool: pg.Pool, channels: string[], userPrefix: string, n: number): Promise<void> {
  const chunk = 50_000;
  const base = (BigInt(Date.now()) - BigInt(n) * 5000n - 86_400_000n) * 1000n;
  for (let start = 0; start < n; start += chunk) {
    const count = Math.min(chunk, n - start);
    await pool.query(
      `WITH src AS (
         SELECT i, ($1::text[])[1 + i % cardinality($1::text[])] AS channel_id, i / cardinality($1::text[]) + 1 AS seq,
                $2::bigint + i::bigint * 5000000 AS ts, $5 || lpad((i % ${USERS})::text, 7, '0') AS user_id,
                (SELECT string_agg('w' || (1 + floor(${VOCABULARY} * pow(random(), 3)))::int::text, ' ')
                   FROM generate_series(1, 12 + 0 * i)) AS text
           FROM generate_series($3::int, $3::int + $4::int - 1) i
       ), ev AS (
         INSERT INTO events (channel_id, seq, ts, type, user_id, data)
         SELECT channel_id, seq, ts, 'message', user_id, '{}' FROM src ORDER BY i
       )
       INSERT INTO messages (channel_id, seq, ts, user_id, text) SELECT channel_id, seq, ts, user_id, text FROM src`,
      [channels, base.toString(), start, count, userPrefix],
    );
  }
  await pool.query(
    `UPDATE channels c SET head_seq = m.seq, head_ts = m.ts
       FROM (SELECT channel_id, max(seq) AS seq, max(ts) AS ts FROM messages WHERE channel_id = ANY($1) GROUP BY channel_id) m
      WHERE c.id = m.channel_id`,
    [channels],
  );
}

/** The queries a person types: common and rare words, two words, a phrase, modifiers, newest first. */
function queries(channelName: string): Array<Record<string, string>> {
  return [
    { query: 'w3' },
    { query: 'w40' },
    { query: 'w900' },
    { query: 'w5000' },
    { query: 'w12 w30' },
    { query: '"w2 w3"' },
    { query: `w25 in:#${channelName}` },
    { query: 'w50 from:@u7' },
    { query: 'w8 -w2', sort: 'timestamp' },
    { query: 'w60', sort: 'timestamp', sort_dir: 'asc' },
  ];
}

async function latencies(base: string, token: string, method: string, list: Array<Record<string, string>>, n: number) {
  const times: number[] = [];
  for (let i = 0; i < n + 10; i++) {
    const started = performance.now();
    const res = await fetch(`${base}/api/${method}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(list[i % list.length]),
    });
    const body = (await res.json()) as { ok: boolean; error?: string };
    if (!body.ok) throw new Error(`${method}: ${body.error}`);
    if (i >= 10) times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b);
}

async function main(): Promise<void> {
  const name = `atomcast_bench_${randomBytes(4).toString('hex')}`;
  const server = new URL(args['database-server']!);
  const adminUrl = Object.assign(new URL(server), { pathname: '/postgres' }).toString();
  const url = Object.assign(new URL(server), { pathname: `/${name}` }).toString();
  const admin = new pg.Client({ connectionString: adminUrl });
  admin.on('error', () => {});
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const pool = createPool(url, 8);
  const figures: Figure[] = [];
  const ratios: Ratio[] = [];
  const rows: string[][] = [];
  try {
    await migrate(url);
    const config = loadConfig({
      DATABASE_URL: url,
      LOG_LEVEL: 'warn',
      PROJECTOR_ENABLED: 'false',
      JOBS_DISPATCHER_ENABLED: 'false',
      RATE_LIMIT_PER_MINUTE: '10000000',
      EKM_LOCAL_MASTER_KEY: randomBytes(32).toString('base64'),
      PORT: '0',
      JOBS_PREFIX: `bench_${randomBytes(4).toString('hex')}`, // the Redis server is shared: keys of our own
    });
    const benchRun = await startRun(url);
    const app = await createApp(config);
    await app.listen(0, '127.0.0.1');
    const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    try {
      // ---- data: two workspaces alike, one plain and one under EKM --------------------------------
      const spaces = [
        { ws: 'TPLAIN0001', prefix: 'PL', label: 'plain words' },
        { ws: 'TBLIND0001', prefix: 'BL', label: 'blind tokens (EKM)' },
      ];
      const tokens: Record<string, string> = {};
      const firstChannel: Record<string, string> = {};
      for (const s of spaces) {
        log(`seeding ${s.ws}: ${USERS} users, ${CHANNELS} channels, ${fmt(MESSAGES)} messages`);
        await pool.query(`INSERT INTO workspaces (id, name) VALUES ($1, 'bench')`, [s.ws]);
        await pool.query(
          `INSERT INTO users (id, workspace_id, name, role)
           SELECT 'U' || $2 || lpad(i::text, 7, '0'), $1, 'u' || i, 'member' FROM generate_series(0, ${USERS} - 1) i`,
          [s.ws, s.prefix],
        );
        const channels = Array.from({ length: CHANNELS }, (_, i) => `C${s.prefix}${String(i).padStart(7, '0')}`);
        // A tenth of the channels are private; the searcher (u0) is in every channel, each other user in a tenth.
        await pool.query(
          `INSERT INTO channels (id, workspace_id, name, is_private, creator)
           SELECT id, $1, lower(id), right(id, 1) = '3', 'U' || $2 || '0000000' FROM unnest($3::text[]) id`,
          [s.ws, s.prefix, channels],
        );
        await pool.query(
          `INSERT INTO channel_members (channel_id, user_id, joined_seq)
           SELECT c, u.id, 0 FROM unnest($1::text[]) c, users u WHERE u.workspace_id = $2 AND (u.name = 'u0' OR right(c, 1) = right(u.id, 1))`,
          [channels, s.ws],
        );
        await seedMessages(pool, channels, `U${s.prefix}`, MESSAGES);
        firstChannel[s.ws] = (await pool.query('SELECT name FROM channels WHERE id = $1', [channels[0]])).rows[0].name;
        const token = issueToken();
        const searcher = (await pool.query(`SELECT id FROM users WHERE workspace_id = $1 AND name = 'u0'`, [s.ws])).rows[0].id;
        await pool.query('INSERT INTO tokens (id, user_id, secret_hash) VALUES ($1, $2, $3)', [token.id, searcher, token.secretHash]);
        tokens[s.ws] = token.token;
      }
      // EKM on for the second workspace after its bodies were written (the body trigger guards
      // writes only): its index is built with blind tokens, the plain bodies keep the run short.
      await pool.query(`INSERT INTO ekm_workspaces (workspace_id, provider, key_ref) VALUES ('TBLIND0001', 'local', 'v1')`);

      // ---- 1. build the index through the projection's rebuild ------------------------------------
      log('1/3 index build (projection rebuild)');
      const store = app.get(EventStore);
      const projection = new SearchIndexProjection(app.get(SearchKeys));
      const rebuilt = await rebuildProjection(pool, url, store, projection, { batchSize: 1000 });
      await pool.query('VACUUM ANALYZE');
      const buildFig = figure('index build through the projection (both workspaces)', rebuilt.events / rebuilt.seconds, 'events/s');
      // Baseline: the unread projection rebuilt over the same events (the projector's own cost).
      const unread = await rebuildProjection(pool, url, store, new UnreadProjection(), { batchSize: 1000 });
      const unreadFig = figure('rebuild `unread` over the same events', unread.events / unread.seconds, 'events/s');
      figures.push(buildFig, unreadFig);
      ratios.push(ratio('search index build / `unread` rebuild', buildFig, unreadFig));
      const size = (await pool.query(`SELECT pg_size_pretty(pg_total_relation_size('search_messages')) AS s`)).rows[0].s;
      rows.push([
        'index build, projection rebuild (events/s)',
        fmt(rebuilt.events / rebuilt.seconds),
        `unread rebuild ${fmt(unread.events / unread.seconds)}/s; ${fmt(rebuilt.events)} events; table + indexes ${size}`,
        (rebuilt.events / rebuilt.seconds / (unread.events / unread.seconds)).toFixed(2),
        '',
      ]);

      // ---- 2. search.messages latency ------------------------------------------------------------
      log(`2/3 search.messages, ${REQUESTS} requests per workspace`);
      const floor = await latencies(base, tokens.TPLAIN0001, 'auth.test', [{}], REQUESTS);
      const floorFig = figure('auth.test over HTTP, p99 (request-path floor)', percentile(floor, 99), 'ms');
      figures.push(figure('auth.test over HTTP, p50', percentile(floor, 50), 'ms'), floorFig);
      const p99: Figure[] = [];
      for (const s of spaces) {
        const times = await latencies(base, tokens[s.ws], 'search.messages', queries(firstChannel[s.ws]), REQUESTS);
        const service = await serviceLatencies(app.get(SearchService), pool, s.ws, queries(firstChannel[s.ws]), REQUESTS);
        figures.push(figure(`search.messages without HTTP (service) p99, ${s.label}`, percentile(service, 99), 'ms'));
        const fig = figure(
          `search.messages p99, ${fmt(MESSAGES)} messages, ${s.label}`,
          percentile(times, 99),
          'ms',
          { op: '<=', value: 50 },
          `${percentile(service, 99) > 50 ? 'the query itself' : 'the HTTP request path'} (without HTTP: p99 ${percentile(service, 99).toFixed(1)} ms; auth.test p99 ${percentile(floor, 99).toFixed(1)} ms)`,
        );
        figures.push(figure(`search.messages p50, ${fmt(MESSAGES)} messages, ${s.label}`, percentile(times, 50), 'ms'), fig);
        ratios.push(ratio(`search.messages p99 / auth.test p99, ${s.label}`, fig, floorFig));
        p99.push(fig);
        rows.push([
          `search.messages p99 ms, ${s.label}`,
          percentile(times, 99).toFixed(1),
          `p50 ${percentile(times, 50).toFixed(1)} ms; without HTTP p50/p99 ${percentile(service, 50).toFixed(1)}/${percentile(service, 99).toFixed(1)} ms; auth.test p99 ${percentile(floor, 99).toFixed(1)} ms`,
          (percentile(times, 99) / percentile(floor, 99)).toFixed(1),
          '<= 50 ms',
        ]);
      }
      ratios.push(ratio('search.messages p99, blind tokens / plain words', p99[1], p99[0]));

      // ---- 3. index lag at RATE posts/s ----------------------------------------------------------
      log(`3/3 index lag at ${RATE} posts/s for ${LAG_SECONDS} s`);
      // The projection's own share of the lag: how long each live batch's apply takes (its statements),
      // apart from when the projector starts a pass (the projector's machinery, measured by bench:projections).
      const applied: Array<{ ms: number; events: number }> = [];
      const timed: Projection = {
        name: projection.name,
        tables: projection.tables,
        apply: async (db, events) => {
          const started = performance.now();
          await projection.apply(db, events);
          applied.push({ ms: performance.now() - started, events: events.length });
        },
      };
      const live = new Projector(timed, store, { databaseUrl: url, pool, batchSize: 1000, intervalMs: 200 });
      live.start();
      await live.catchUp();
      applied.length = 0; // the batches of the lag run only
      const lags = await measureLag(
        pool,
        app.get(ChatRepository),
        app.get(BodyCipher),
        spaces.map((s) => ({ ws: s.ws, channel: firstChannel[s.ws], user: `U${s.prefix}0000000` })),
      );
      await live.stop();
      const applyMs = applied.map((a) => a.ms).sort((a, b) => a - b);
      const perBatch = applied.length ? applied.reduce((n, a) => n + a.events, 0) / applied.length : 0;
      const applyP99 = applyMs.length ? percentile(applyMs, 99) : 0;
      figures.push(figure('search-index apply per live batch, p99', applyP99, 'ms'));
      // What limits the lag, as far as this run tells: the apply itself, or when passes run.
      const limit =
        applyP99 >= lags.p99 / 2
          ? `the projection's apply (p99 ${applyP99.toFixed(0)} ms a batch)`
          : `the projector's passes, not the apply (p99 ${applyP99.toFixed(0)} ms a batch)`;
      const lagFig = figure(`index lag at ${RATE} posts/s, p99`, lags.p99 / 1000, 's', { op: '<=', value: 1 }, limit);
      figures.push(
        figure(`index lag at ${RATE} posts/s, p50`, lags.p50 / 1000, 's'),
        lagFig,
        figure(`posts achieved`, lags.rate, 'posts/s'),
      );
      rows.push([
        `index lag at ${RATE} posts/s, p99 (s)`,
        (lags.p99 / 1000).toFixed(3),
        `p50 ${(lags.p50 / 1000).toFixed(3)} s, max ${(lags.max / 1000).toFixed(3)} s; ${fmt(lags.rate)} posts/s achieved; ` +
          `${applied.length} batches of ${perBatch.toFixed(1)} events on average, apply p50/p99/max ` +
          `${applyMs.length ? `${percentile(applyMs, 50).toFixed(1)}/${percentile(applyMs, 99).toFixed(1)}/${applyMs[applyMs.length - 1].toFixed(1)}` : '-'} ms`,
        '',
        '<= 1 s',
      ]);

      process.stdout.write(`\nnpm run bench:search${quick ? ' -- --quick' : ''}\n`);
      for (const line of machineLines(benchRun.machine)) process.stdout.write(`${line}\n`);
      process.stdout.write(
        `data: ${fmt(MESSAGES)} messages in ${CHANNELS} channels per workspace (plain and EKM), 12 words each from ${fmt(VOCABULARY)}\n\n`,
      );
      process.stdout.write('| measure | value | baseline (same run) | ratio | target |\n| --- | ---: | --- | ---: | --- |\n');
      for (const row of rows) process.stdout.write(`| ${row.join(' | ')} |\n`);
      writeResults(benchRun, {
        benchmark: 'search',
        quick,
        figures,
        ratios,
        notes: [
          `${fmt(MESSAGES)} messages in ${CHANNELS} channels in each of two workspaces (plain; EKM with blind tokens, bodies left plain to keep seeding short), 12 words each from ${fmt(VOCABULARY)} by a power law`,
          `queries cycle through: ${queries('<channel>')
            .map((q) => q.query)
            .join(' | ')}`,
        ],
      });
    } finally {
      const queues = app.get(JobQueues);
      for (const q of Object.values(QUEUES))
        await queues
          .get(q)
          .obliterate({ force: true })
          .catch(() => {});
      await app.close();
    }
  } finally {
    await pool.end().catch(() => {});
    if (!args.keep) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
    await admin.end();
  }
}

/** search.messages through its service (no HTTP), as the searcher of `ws`. */
async function serviceLatencies(service: SearchService, pool: pg.Pool, ws: string, list: Array<Record<string, string>>, n: number) {
  const { rows } = await pool.query(`SELECT * FROM users WHERE workspace_id = $1 AND name = 'u0'`, [ws]);
  const caller = { user: rows[0], workspace: ws, tokenId: '', kind: 'api', expiresAt: null } as unknown as Caller;
  const times: number[] = [];
  for (let i = 0; i < n + 10; i++) {
    const q = list[i % list.length];
    const started = performance.now();
    await service.messages(caller, { query: q.query, sort: q.sort as 'score' | undefined, sort_dir: q.sort_dir as 'asc' | undefined });
    if (i >= 10) times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b);
}

/**
 * Posts at RATE per second through the chat repository (chat.postMessage's append, sealed in the
 * EKM workspace; several in flight, alternating the workspaces) while a poller notes when each
 * post's index row appears: lag = seen - committed.
 */
async function measureLag(
  pool: pg.Pool,
  chat: ChatRepository,
  cipher: BodyCipher,
  targets: Array<{ ws: string; channel: string; user: string }>,
) {
  const total = RATE * LAG_SECONDS;
  const acked = new Map<string, number>();
  const seen = new Map<string, number>();
  let stop = false;
  const since = (BigInt(Date.now()) - 1000n) * 1000n;
  const poller = (async () => {
    while (!stop || seen.size < acked.size) {
      const { rows } = await pool.query<{ k: string }>(
        `SELECT channel_id || ':' || ts AS k FROM search_messages WHERE workspace_id = ANY($1) AND ts > $2`,
        [targets.map((t) => t.ws), since.toString()],
      );
      const now = performance.now();
      for (const r of rows) if (!seen.has(r.k)) seen.set(r.k, now);
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  const channelIds = new Map<string, string>();
  for (const t of targets) channelIds.set(t.ws, (await pool.query('SELECT id FROM channels WHERE name = $1', [t.channel])).rows[0].id);
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= total) return;
      const due = started + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const t = targets[i % targets.length];
      const channel = channelIds.get(t.ws)!;
      const sealer = await cipher.sealer(t.ws, channel);
      const posted = await chat.postMessage({ workspace: t.ws, channel, user: t.user, text: `lag probe w${i % 997} number ${i}` }, sealer);
      acked.set(`${channel}:${BigInt(posted.ts)}`, performance.now());
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  const elapsed = (performance.now() - started) / 1000;
  const deadline = performance.now() + 30_000;
  while (seen.size < acked.size && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  stop = true;
  await poller.catch(() => {});
  const lags = [...acked].map(([k, at]) => (seen.get(k) ?? Number.POSITIVE_INFINITY) - at).sort((a, b) => a - b);
  return { p50: percentile(lags, 50), p99: percentile(lags, 99), max: lags[lags.length - 1], rate: total / elapsed };
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
