// npm run bench:files [-- --quick (default) | --full | --mb 256]
// Issue 11: file upload and download throughput through the app (HTTP -> app -> local storage, and
// back), plain and EKM (sealed in AES-256-GCM frames), each over a plain fs stream copy of the same
// bytes measured in the same run (target >= 0.5). Writes bench/results/files.json.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { request } from 'undici';
import { children, startAppServer } from './append/processes.js';
import { createBenchDatabase, dropBenchDatabase, seed } from './append/setup.js';
import { type Figure, figure, machineLines, type Ratio, ratio, startRun, writeResults } from './results.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    full: { type: 'boolean', default: false },
    mb: { type: 'string' },
    rounds: { type: 'string' },
    'database-server': { type: 'string', default: process.env.BENCH_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432' },
  },
});
// Quick is the default (well under a minute on a busy 2-core box); --full measures more bytes, more often.
const quick = !args.full;
const megabytes = Number(args.mb ?? (quick ? 32 : 256));
const rounds = Number(args.rounds ?? (quick ? 2 : 3));
const log = (line: string) => process.stderr.write(`${line}\n`);

/** The best of `rounds` timings of `work`, in seconds (the least disturbed by other work on the box). */
async function best(work: (round: number) => Promise<void>): Promise<number> {
  let fastest = Infinity;
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    await work(i);
    fastest = Math.min(fastest, (performance.now() - started) / 1000);
  }
  return fastest;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'atomcast-bench-files-'));
  const url = await createBenchDatabase(args['database-server']!);
  const source = join(dir, 'source.bin');
  const size = megabytes * 1024 * 1024;
  // Random bytes: nothing compresses or dedups along the way.
  await pipeline(
    (function* () {
      for (let i = 0; i < megabytes; i++) yield randomBytes(1024 * 1024);
    })(),
    createWriteStream(source),
  );
  const app = await startAppServer({
    DATABASE_URL: url,
    PORT: '0',
    LOG_LEVEL: 'warn',
    ACCESS_LOG: 'false',
    RATE_LIMIT_PER_MINUTE: '10000000',
    ROLES: 'api',
    PROJECTOR_ENABLED: 'false',
    JOBS_DISPATCHER_ENABLED: 'false',
    JOBS_PREFIX: `bench_${randomBytes(4).toString('hex')}`,
    FILES_DIR: join(dir, 'store'),
    FILES_MAX_BYTES: String(size),
    EKM_LOCAL_MASTER_KEY: randomBytes(32).toString('base64'),
  });
  try {
    const plain = await seed(url, 1, 1);
    const sealed = await seed(url, 1, 1);
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    await db.query(`INSERT INTO ekm_workspaces (workspace_id, provider, key_ref) VALUES ($1, 'local', 'v1')`, [sealed.workspace]);
    await db.end();
    const run = await startRun(url);

    const api = async (token: string, method: string, body: Record<string, unknown>) => {
      const res = await request(`${app.url}/api/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
      const out = (await res.body.json()) as Record<string, any>;
      if (!out.ok) throw new Error(`${method}: ${out.error}`);
      return out;
    };

    const copy = await best(async (i) => pipeline(createReadStream(source), createWriteStream(join(dir, `copy-${i}.bin`))));
    const copyRate = figure(`fs stream copy of ${megabytes} MB`, megabytes / copy, 'MB/s');
    const figures: Figure[] = [copyRate];
    const ratios: Ratio[] = [];

    for (const [label, data] of [
      ['plain', plain],
      ['EKM', sealed],
    ] as const) {
      const token = data.users[0].token;
      let downloadUrl = '';
      const upload = await best(async () => {
        const asked = await api(token, 'files.getUploadURLExternal', { filename: 'bench.bin', length: size });
        const res = await request(asked.upload_url as string, {
          method: 'POST',
          headers: { 'content-type': 'application/octet-stream' },
          body: createReadStream(source),
        });
        const text = await res.body.text();
        if (res.statusCode !== 200) throw new Error(`upload: ${res.statusCode} ${text}`);
        const done = await api(token, 'files.completeUploadExternal', { files: [{ id: asked.file_id }], channel_id: data.channels[0] });
        downloadUrl = `${app.url}${new URL(done.files[0].url_private_download).pathname}`;
      });
      const target = join(dir, `download-${label}.bin`);
      const download = await best(async () => {
        const res = await request(downloadUrl, { headers: { authorization: `Bearer ${token}` } });
        if (res.statusCode !== 200) throw new Error(`download: ${res.statusCode}`);
        await pipeline(res.body, createWriteStream(target));
      });
      if ((await stat(target)).size !== size) throw new Error(`download ${label}: wrong size`);
      const up = figure(`upload through the app, ${label}`, megabytes / upload, 'MB/s');
      const down = figure(`download through the app, ${label}`, megabytes / download, 'MB/s');
      figures.push(up, down);
      // Not profiled: on a shared box the client, the app and the copy compete for the same cores.
      const limit = `not profiled; measured at load average ${os.loadavg()[0].toFixed(0)} on ${os.cpus().length} cores shared by client, app and other work`;
      ratios.push(ratio(`upload ${label} / fs copy`, up, copyRate, { op: '>=', value: 0.5 }, limit));
      ratios.push(ratio(`download ${label} / fs copy`, down, copyRate, { op: '>=', value: 0.5 }, limit));
      log(`${label}: upload ${up.value?.toFixed(0)} MB/s, download ${down.value?.toFixed(0)} MB/s`);
    }

    process.stdout.write(
      [
        '',
        `bench:files  ${new Date().toISOString()}`,
        ...machineLines(run.machine),
        `${megabytes} MB of random bytes, best of ${rounds} rounds each; app in a child process, local storage (FILES_DIR on the same disk)`,
        `${copyRate.name}: ${copyRate.value?.toFixed(0)} MB/s`,
        ...figures.slice(1).map((f) => `${f.name}: ${f.value?.toFixed(0)} MB/s`),
        ...ratios.map((r) => `${r.name}: ${r.value?.toFixed(2)} (target >= 0.5)`),
        '',
      ].join('\n'),
    );
    writeResults(run, {
      benchmark: 'files',
      quick,
      figures,
      ratios,
      notes: [`${megabytes} MB per transfer, best of ${rounds}; the client (undici) streams from and to files in the bench process`],
    });
  } finally {
    await app.stop();
    await dropBenchDatabase(url).catch((err) => log(`could not drop the bench database: ${err}`));
    await rm(dir, { recursive: true, force: true });
  }
}

try {
  await main();
} finally {
  for (const child of children) child.kill('SIGKILL');
}
