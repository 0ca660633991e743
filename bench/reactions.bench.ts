// npm run bench:reactions [-- --quick | --seconds 4 --reactors 50]
// Issue 10: reactions.add throughput on one hot message with 50 concurrent reactors, against
// chat.postMessage throughput on one channel from as many concurrent posters, both over HTTP
// against the real app on one fresh database, in one run. Writes bench/results/reactions.json.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { children, startAppServer } from './append/processes.js';
import { createBenchDatabase, dropBenchDatabase, seed } from './append/setup.js';
import { figure, machineLines, ratio, startRun, writeResults } from './results.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    reactors: { type: 'string', default: '50' },
    'database-server': { type: 'string', default: process.env.BENCH_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432' },
    keep: { type: 'boolean', default: false },
  },
});

const reactors = Number(args.reactors);
const measureMs = 1000 * (args.seconds !== undefined ? Number(args.seconds) : args.quick ? 1 : 4);
const warmupMs = args.quick ? 300 : 1000;
const log = (line: string) => process.stderr.write(`${line}\n`);

// Distinct standard emoji for the reactors to use: a message takes at most 50 distinct names, so
// each reactor walks the same 50 names in its own order (reactors x 50 adds at most).
const EMOJI: string[] = (createRequire(import.meta.url)('emoji-datasource/emoji.json') as Array<{ short_name: string }>)
  .slice(0, 50)
  .map((e) => e.short_name);

interface Phase {
  done: number;
  failed: number;
  ms: number;
}

/** Runs `op(client, i)` in a closed loop from every client until `ms` passed or every client returns false. */
async function closedLoop(clients: number, ms: number, op: (client: number, i: number) => Promise<boolean | undefined>): Promise<Phase> {
  const started = performance.now();
  const deadline = started + ms;
  let done = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let i = 0; performance.now() < deadline; i++) {
        const ok = await op(client, i);
        if (ok === undefined) return; // this client has nothing left to do
        if (ok) done++;
        else failed++;
      }
    }),
  );
  return { done, failed, ms: performance.now() - started };
}

async function main(): Promise<void> {
  const url = await createBenchDatabase(args['database-server']!);
  const app = await startAppServer({
    DATABASE_URL: url,
    PORT: '0',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '10000000',
    ROLES: 'api',
    PROJECTOR_ENABLED: 'false',
    JOBS_DISPATCHER_ENABLED: 'false',
    JOBS_PREFIX: `bench_${randomBytes(4).toString('hex')}`,
  });
  try {
    const data = await seed(url, reactors, 2);
    const run = await startRun(url);
    const http = new Pool(app.url, { connections: reactors, pipelining: 1 });
    const call = async (method: string, token: string, body: Record<string, string>) => {
      const res = await http.request({
        path: `/api/${method}`,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
      return (await res.body.json()) as { ok: boolean; ts?: string; error?: string };
    };

    // chat.postMessage on one channel, `reactors` concurrent posters.
    const postChannel = data.channels[0];
    const post = (client: number) =>
      call('chat.postMessage', data.users[client].token, { channel: postChannel, text: 'bench' }).then((r) => r.ok);
    await closedLoop(reactors, warmupMs, post);
    const posts = await closedLoop(reactors, measureMs, post);
    log(`chat.postMessage: ${posts.done} in ${Math.round(posts.ms)} ms (${posts.failed} failed)`);

    // reactions.add on one hot message of another channel, `reactors` concurrent reactors.
    const hotChannel = data.channels[1];
    const hot = await call('chat.postMessage', data.users[0].token, { channel: hotChannel, text: 'hot' });
    const react = (client: number, i: number) =>
      i >= EMOJI.length
        ? Promise.resolve(undefined)
        : call('reactions.add', data.users[client].token, {
            channel: hotChannel,
            timestamp: hot.ts!,
            name: EMOJI[(client + i) % EMOJI.length],
          }).then((r) => r.ok);
    const reactions = await closedLoop(reactors, measureMs, react);
    log(`reactions.add: ${reactions.done} in ${Math.round(reactions.ms)} ms (${reactions.failed} failed)`);
    await http.close();

    const postRate = figure(`chat.postMessage, 1 channel x ${reactors} posters`, posts.done / (posts.ms / 1000), 'posts/s');
    const reactRate = figure(`reactions.add, 1 message x ${reactors} reactors`, reactions.done / (reactions.ms / 1000), 'reactions/s');
    const r = ratio(`reactions.add on one hot message / chat.postMessage on one channel, ${reactors} clients`, reactRate, postRate, {
      op: '>=',
      value: 0.8,
    });
    process.stdout.write(
      [
        '',
        `bench:reactions  ${new Date().toISOString()}`,
        ...machineLines(run.machine),
        `${warmupMs / 1000} s warm-up (posts) + up to ${measureMs / 1000} s measured per phase, closed loop over HTTP (undici)`,
        `${postRate.name}: ${Math.round(postRate.value ?? 0)} posts/s`,
        `${reactRate.name}: ${Math.round(reactRate.value ?? 0)} reactions/s`,
        `ratio: ${r.value?.toFixed(2)} (target >= 0.8)`,
        '',
      ].join('\n'),
    );
    writeResults(run, {
      benchmark: 'reactions',
      quick: args.quick!,
      figures: [postRate, reactRate],
      ratios: [r],
      notes: [
        `${reactors} reactors each add up to ${EMOJI.length} distinct emoji to one message (at most ${reactors * EMOJI.length} adds); failed: posts ${posts.failed}, reactions ${reactions.failed}`,
      ],
    });
  } finally {
    await app.stop();
    if (!args.keep) await dropBenchDatabase(url).catch((err) => log(`could not drop the bench database: ${err}`));
  }
}

try {
  await main();
} finally {
  for (const child of children) child.kill('SIGKILL');
}
