// npm run bench:jobs [-- --quick | --bodies 20000 --messages 10000 --links 1000 --only ekm,retention,unfurl]
// Background jobs (issue 5, "Benchmark"): EKM re-encryption, retention sweep and link unfurls,
// each beside a baseline measured in the same run on the same fresh database. Writes
// bench/results/jobs.json. See bench/README.md.
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { formatTable, loadAverage } from './append/report.js';
import { dropBenchDatabase, settle } from './append/setup.js';
import { type JobsApp, startJobsApp } from './jobs/app.js';
import { createJobsDatabase } from './jobs/database.js';
import { countStatementTexts, type Measured } from './jobs/measure.js';
import { profiled } from './jobs/profile.js';
import { SEAL_BATCH, sealRaw, sealWithEkm } from './jobs/reencrypt.js';
import { SWEEP_BATCH, sweepRaw, sweepWithRetention } from './jobs/retention.js';
import { type SeededWorkspace, seedMessages } from './jobs/seed.js';
import { type Figure, figure, machineLines, type Ratio, ratio, startRun, writeResults } from './results.js';
import {
  fetchParts,
  getRaw,
  linkText,
  type PageServer,
  startPageServer,
  UNFURL_CONCURRENCY,
  unfurlWithService,
  warmUpUnfurl,
} from './jobs/unfurl.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    bodies: { type: 'string' },
    messages: { type: 'string' },
    links: { type: 'string' },
    channels: { type: 'string', default: '20' },
    only: { type: 'string', default: 'ekm,retention,unfurl' },
    'database-server': { type: 'string', default: process.env.BENCH_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432' },
    json: { type: 'string' },
    'cpu-prof': { type: 'string' },
    statements: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (args.help) {
  process.stdout.write(`Options (after "npm run bench:jobs --"):
  --quick                 small N (2,000 bodies, 2,000 messages, 200 links): for checking the
                          harness, not for figures
  --bodies N              message bodies re-encrypted by EKM, and by the baseline (default 20,000)
  --messages N            messages expired by the retention sweep, and by the baseline (default 10,000)
  --links N               messages with one link each, unfurled (default 1,000)
  --channels N            channels per workspace the messages spread over (default 20)
  --only ekm,retention,unfurl   which measurements to run
  --database-server URL   PostgreSQL server (env BENCH_DATABASE_SERVER); Redis: env REDIS_URL
  --json FILE             also write the raw results as JSON (bench/results/jobs.json is always written)
  --cpu-prof DIR          a V8 CPU profile of each timed phase, DIR/<phase>.cpuprofile
                          (summarise one with: node dist-bench/bench/profile-summary.js FILE)
  --statements            under the table, every SQL statement each row sent, with counts
  --keep                  keep the atomcast_bench_* database
`);
  process.exit(0);
}

const count = (s: string | undefined, quick: number, normal: number) => (s !== undefined ? Number(s) : args.quick ? quick : normal);
const bodies = count(args.bodies, 2000, 20_000);
const messages = count(args.messages, 2000, 10_000);
const links = count(args.links, 200, 1000);
const channels = Number(args.channels);
const EKM_WARM_UP = 1000;
const only = new Set(args.only!.split(',').map((s) => s.trim()));
const valid = (n: number) => Number.isInteger(n) && n > 0;
if (![bodies, messages, links, channels].every(valid) || ![...only].every((o) => ['ekm', 'retention', 'unfurl'].includes(o))) {
  process.stderr.write('bench: nothing sensible to run; see --help\n');
  process.exit(2);
}

const log = (line: string) => process.stderr.write(`${line}\n`);
if (args.statements) countStatementTexts();
const children = new Set<ChildProcess>();
let url: string | undefined;
let app: JobsApp | undefined;
let site: PageServer | undefined;

async function cleanUp(): Promise<void> {
  await app?.close().catch((err) => log(`could not close the app: ${err}`));
  await site?.stop();
  for (const child of children) child.kill('SIGKILL');
  if (url && !args.keep) await dropBenchDatabase(url).catch((err) => log(`could not drop the bench database: ${err}`));
}

process.once('SIGINT', () => {
  log('interrupted; cleaning up');
  for (const child of children) child.kill('SIGKILL');
  void (url && !args.keep ? dropBenchDatabase(url) : Promise.resolve()).finally(() => process.exit(130));
});

interface Line {
  group: string;
  what: string;
  result: Measured;
  /** The row this one is divided by for the ratio column. */
  baseline?: Measured;
}

const UNITS: Record<string, string> = { 're-encryption': 'bodies/s', retention: 'messages/s', unfurl: 'links/s' };

/** bench/results/jobs.json: each row's rate and costs, each row over its baseline (re-encryption with the target). */
function results(lines: Line[]): { figures: Figure[]; ratios: Ratio[] } {
  const figures: Figure[] = [];
  const ratios: Ratio[] = [];
  const rates = new Map<Measured, Figure>();
  for (const l of lines) {
    const name = `${l.group}, ${l.what}`;
    rates.set(l.result, figure(name, l.result.rate, UNITS[l.group]));
    figures.push(
      rates.get(l.result)!,
      figure(`${name}, SQL statements per item`, l.result.statementsPerItem, 'statements'),
      figure(`${name}, process CPU per item`, l.result.nodeUsPerItem, 'µs'),
      figure(`${name}, PostgreSQL CPU per item`, l.result.dbUsPerItem, 'µs'),
    );
    if (!l.baseline) continue;
    const base = lines.find((b) => b.result === l.baseline)!;
    const more = l.result.statementsPerItem > base.result.statementsPerItem + 0.5;
    const limit = more
      ? `${l.result.statementsPerItem.toFixed(1)} SQL statements per item against ${base.result.statementsPerItem.toFixed(1)}`
      : undefined;
    const target = l.group === 're-encryption' ? ({ op: '>=', value: 0.5 } as const) : undefined;
    ratios.push(ratio(`${l.group}: ${l.what} / ${base.what}`, rates.get(l.result)!, rates.get(base.result)!, target, limit));
  }
  return { figures, ratios };
}

async function vacuum(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('VACUUM ANALYZE');
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  url = await createJobsDatabase(args['database-server']!);
  log(`database ${new URL(url).pathname.slice(1)} migrated; seeding`);
  if (only.has('unfurl')) site = await startPageServer(children);

  // Every measured workspace is seeded before anything is timed, each pair with identical rows.
  const seedStart = Date.now();
  const ws: Record<string, SeededWorkspace> = {};
  if (only.has('ekm')) {
    // A small untimed pair first: the first timed row would otherwise pay the JIT for both.
    ws.ekmWarmRaw = await seedMessages(url, { channels, count: EKM_WARM_UP });
    ws.ekmWarm = await seedMessages(url, { channels, count: EKM_WARM_UP });
    ws.ekmRaw = await seedMessages(url, { channels, count: bodies });
    ws.ekm = await seedMessages(url, { channels, count: bodies });
  }
  if (only.has('retention')) {
    ws.retentionRaw = await seedMessages(url, { channels, count: messages });
    ws.retention = await seedMessages(url, { channels, count: messages });
  }
  if (only.has('unfurl')) ws.unfurl = await seedMessages(url, { channels, count: links, text: linkText(site!.origin) });
  await vacuum(url);
  const seeded = Object.values(ws).reduce((n, w) => n + w.count, 0); // warm-up pair included
  log(`seeded ${seeded.toLocaleString('en-US')} messages in ${((Date.now() - seedStart) / 1000).toFixed(1)} s`);

  const run = await startRun(url);
  const machine = machineLines(run.machine);
  app = await startJobsApp(url);
  const lines: Line[] = [];
  const prof = args['cpu-prof'];
  const step = async (group: string, what: string, name: string, work: () => Promise<Measured>, baseline?: Measured) => {
    // The rows a previous phase rewrote or deleted are vacuumed, and its dirty pages written out
    // (a checkpoint), so that no phase pays for the one before it.
    await vacuum(url!);
    await settle(url!);
    const result = await profiled(prof, name, work);
    lines.push({ group, what, result, baseline });
    log(`${group} ${what}: ${Math.round(result.rate).toLocaleString('en-US')}/s (${result.items} in ${(result.ms / 1000).toFixed(1)} s)`);
    return result;
  };

  if (only.has('ekm')) {
    await sealRaw(app, ws.ekmWarmRaw);
    await sealWithEkm(app, ws.ekmWarm);
    const raw = await step('re-encryption', 'raw read + write', 'ekm-raw', () => sealRaw(app!, ws.ekmRaw));
    await step('re-encryption', 'EKM encrypt run', 'ekm', () => sealWithEkm(app!, ws.ekm), raw);
  }
  if (only.has('retention')) {
    const raw = await step('retention', `raw DELETE, ${SWEEP_BATCH}/statement`, 'retention-raw', () => sweepRaw(app!, ws.retentionRaw));
    await step('retention', 'RetentionService.sweep', 'retention', () => sweepWithRetention(app!, ws.retention), raw);
  }
  if (only.has('unfurl')) {
    await warmUpUnfurl(app, site!, Math.min(100, links));
    const raw = await step('unfurl', `undici GET, keep-alive, x${UNFURL_CONCURRENCY}`, 'unfurl-raw', () => getRaw(app!, site!, links));
    await step('unfurl', `safeFetch only, x${UNFURL_CONCURRENCY}`, 'unfurl-fetch', () => fetchParts(app!, site!, links, false), raw);
    await step('unfurl', `safeFetch + OG parse, x${UNFURL_CONCURRENCY}`, 'unfurl-parse', () => fetchParts(app!, site!, links, true), raw);
    await step('unfurl', `UnfurlService.unfurlMessage, x${UNFURL_CONCURRENCY}`, 'unfurl', () => unfurlWithService(app!, ws.unfurl), raw);
  }

  const n0 = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '-');
  const table = formatTable(
    ['job  run', 'items', 's', 'items/s', 'vs baseline', 'stmts/item', 'node us/item', 'db us/item', 'db wait'],
    lines.map((l) => [
      `${l.group.padEnd(15)}${l.what}`,
      n0(l.result.items),
      (l.result.ms / 1000).toFixed(2),
      n0(l.result.rate),
      l.baseline ? (l.result.rate / l.baseline.rate).toFixed(2) : 'baseline',
      l.result.statementsPerItem.toFixed(2),
      n0(l.result.nodeUsPerItem),
      n0(l.result.dbUsPerItem),
      n0(l.result.dbWaitUsPerItem),
    ]),
  );
  const ekm = lines.find((l) => l.group === 're-encryption' && l.baseline);
  const ratio = ekm && ekm.result.rate / ekm.baseline!.rate;
  const out = [
    '',
    `bench:jobs  ${new Date().toISOString()}  (${((Date.now() - started) / 1000).toFixed(0)} s)`,
    ...machine,
    `load avg:   ${loadAverage()} (at end)`,
    `data:       ${channels} channels per workspace; a fresh workspace per row, seeded set-based as post_message() writes them; bodies 40-280 chars`,
    `app:        AppModule.forRoot in this process, ROLES=api PROJECTOR_ENABLED=false JOBS_DISPATCHER_ENABLED=false, EKM local provider`,
    `batches:    re-encryption ${SEAL_BATCH} rows per transaction (both rows); retention ${SWEEP_BATCH}; unfurl ${UNFURL_CONCURRENCY} in flight` +
      (site ? `, page ${site.bytes.toLocaleString('en-US')} bytes from ${site.origin}` : ''),
    '',
    table,
    '',
    'stmts/item: SQL statements sent by this process per item (BEGIN and COMMIT count);',
    'node us/item: CPU of this process (the services run in it); db us/item: CPU of the database backends;',
    'db wait: their run-queue wait per item (high against db us/item: the cores were oversubscribed).',
    ...(args.statements
      ? lines
          .filter((l) => l.result.statements?.length)
          .flatMap((l) => [
            `statements of ${l.group} ${l.what} (count, text):`,
            ...l.result.statements!.map(([t, n]) => `${String(n).padStart(9)}  ${t}`),
            '',
          ])
      : []),
    ...(ratio === undefined
      ? []
      : [`Target: re-encryption / raw read + write >= 0.5: ${ratio.toFixed(2)} ${ratio >= 0.5 ? 'met' : 'MISSED'}`]),
    '',
  ];
  process.stdout.write(out.join('\n'));
  writeResults(run, { benchmark: 'jobs', quick: args.quick!, ...results(lines) });
  if (args.json) writeFileSync(args.json, JSON.stringify({ machine, channels, lines }, null, 2));
}

try {
  await main();
} finally {
  await cleanUp();
}
