// npm run bench:notify [-- --quick | --posts 300 --members 10000 --away 100]
// Issue 13: (1) the cost of the notification decision for a `<!channel>` post in a 10,000-member
// channel (the consumer's one SQL statement per batch, NotifyRepository.recipients, here for one message, every member with a
// device, all but `--away` of them looking at the channel), and (2) the post's own latency
// (chat.postMessage over HTTP against the real app) in that channel against a 10-member channel,
// in one run: the decision runs in the consumer, so the ratio should stay near 1.0.
// Writes bench/results/notify.json.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Pool } from 'undici';
import webpush from 'web-push';
import { NotifyRepository } from '../src/jobs/notify/notify.repository.js';
import { children, startAppServer } from './append/processes.js';
import { createBenchDatabase, dropBenchDatabase, seed } from './append/setup.js';
import { figure, machineLines, ratio, startRun, writeResults } from './results.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    posts: { type: 'string' },
    members: { type: 'string', default: '10000' },
    away: { type: 'string', default: '100' },
    'database-server': { type: 'string', default: process.env.BENCH_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432' },
    keep: { type: 'boolean', default: false },
  },
});

const members = Number(args.members);
const away = Number(args.away);
const posts = args.posts !== undefined ? Number(args.posts) : args.quick ? 30 : 300;
const decisions = args.quick ? 5 : 30;
const log = (line: string) => process.stderr.write(`${line}\n`);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

async function main(): Promise<void> {
  const url = await createBenchDatabase(args['database-server']!);
  const db = new pg.Pool({ connectionString: url, max: 2 });
  const vapid = webpush.generateVAPIDKeys();
  const app = await startAppServer({
    DATABASE_URL: url,
    PORT: '0',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '10000000',
    ROLES: 'api',
    // Only the post path is measured here; the consumer's cost is measured on its own below.
    PROJECTOR_ENABLED: 'false',
    JOBS_DISPATCHER_ENABLED: 'false',
    VAPID_PUBLIC_KEY: vapid.publicKey,
    VAPID_PRIVATE_KEY: vapid.privateKey,
    JOBS_PREFIX: `bench_${randomBytes(4).toString('hex')}`,
  });
  try {
    // Two channels of 10 members; the second one grows to `members` (SQL, in bulk).
    const data = await seed(url, 10, 2);
    const [small, large] = data.channels;
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO users (id, workspace_id, name, role)
       SELECT 'UN' || lpad(i::text, 8, '0'), $1, 'n' || i, 'member' FROM generate_series(1, $2::int) i RETURNING id`,
      [data.workspace, members - 10],
    );
    const extra = rows.map((r) => r.id);
    await db.query(`INSERT INTO channel_members (channel_id, user_id, joined_seq) SELECT $1, unnest($2::text[]), 0`, [large, extra]);
    // Every member has a device (never contacted: no worker runs); all but `away` view the channel.
    const everyone = [...data.users.map((u) => u.id), ...extra];
    const key = randomBytes(65).toString('base64url');
    await db.query(
      `INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth)
       SELECT u, 'https://push.invalid/' || u, $2, $3 FROM unnest($1::text[]) u`,
      [everyone, key, randomBytes(16).toString('base64url')],
    );
    await db.query(
      `INSERT INTO notify_viewers (node, socket, user_id, channel_id, active_until)
       SELECT 'bench', u, u, $2, now() + interval '1 day' FROM unnest($1::text[]) u`,
      // The poster (everyone[0]) looks too; the `away` after it do not.
      [[everyone[0], ...everyone.slice(away + 1)], large],
    );
    await db.query('ANALYZE');
    const run = await startRun(url);

    // (2) The post's latency, alternating between the two channels so both see the same box.
    const http = new Pool(app.url, { connections: 1, pipelining: 1 });
    const poster = data.users[0];
    const postOnce = async (channel: string) => {
      const started = performance.now();
      const res = await http.request({
        path: '/api/chat.postMessage',
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${poster.token}` },
        body: JSON.stringify({ channel, text: '<!channel> bench' }),
      });
      const body = (await res.body.json()) as { ok: boolean; error?: string };
      if (!body.ok) throw new Error(`chat.postMessage: ${body.error}`);
      return performance.now() - started;
    };
    for (let i = 0; i < 20; i++) await postOnce(i % 2 ? small : large);
    const latency = { small: [] as number[], large: [] as number[] };
    for (let i = 0; i < posts; i++) {
      latency.large.push(await postOnce(large));
      latency.small.push(await postOnce(small));
    }
    await http.close();
    log(`posts: ${posts} per channel`);

    // (1) The decision, as the consumer makes it, on the consumer's kind of connection.
    const repo = new NotifyRepository(db);
    const decide = async (channel: string) => {
      const started = performance.now();
      const [r] = await repo.recipients(db, [{ channel, author: poster.id, mentioned: [], everyone: true, here: false }]);
      return { ms: performance.now() - started, told: r.length };
    };
    for (let i = 0; i < 3; i++) await decide(large);
    const decided = { large: [] as number[], small: [] as number[] };
    let told = 0;
    for (let i = 0; i < decisions; i++) {
      const d = await decide(large);
      decided.large.push(d.ms);
      told = d.told;
      decided.small.push((await decide(small)).ms);
    }
    log(`decisions: ${decisions} per channel; <!channel> in the large channel tells ${told}`);

    const bigPost = figure(`chat.postMessage <!channel> p50, ${members.toLocaleString('en')} members`, pct(latency.large, 50), 'ms');
    const smallPost = figure('chat.postMessage <!channel> p50, 10 members', pct(latency.small, 50), 'ms');
    const bigPost99 = figure(`chat.postMessage <!channel> p99, ${members.toLocaleString('en')} members`, pct(latency.large, 99), 'ms');
    const smallPost99 = figure('chat.postMessage <!channel> p99, 10 members', pct(latency.small, 99), 'ms');
    const bigDecision = figure(
      `notify decision <!channel>, ${members.toLocaleString('en')} members (${told} told), p50`,
      pct(decided.large, 50),
      'ms',
    );
    const smallDecision = figure('notify decision <!channel>, 10 members, p50', pct(decided.small, 50), 'ms');
    const postRatio = ratio(`post latency p50, ${members.toLocaleString('en')} / 10 members`, bigPost, smallPost, { op: '<=', value: 1.2 });
    const decisionRatio = ratio(
      `notify decision p50, ${members.toLocaleString('en')} / 10 members (consumer, off the post path)`,
      bigDecision,
      smallDecision,
    );
    process.stdout.write(
      [
        '',
        `bench:notify  ${new Date().toISOString()}`,
        ...machineLines(run.machine),
        `${posts} sequential posts per channel, alternating, over HTTP (undici); ${decisions} decisions per channel`,
        `${bigPost.name}: ${bigPost.value?.toFixed(2)} ms (p99 ${bigPost99.value?.toFixed(2)})`,
        `${smallPost.name}: ${smallPost.value?.toFixed(2)} ms (p99 ${smallPost99.value?.toFixed(2)})`,
        `post ratio: ${postRatio.value?.toFixed(2)} (target <= 1.2)`,
        `${bigDecision.name}: ${bigDecision.value?.toFixed(2)} ms`,
        `${smallDecision.name}: ${smallDecision.value?.toFixed(2)} ms`,
        '',
      ].join('\n'),
    );
    writeResults(run, {
      benchmark: 'notify',
      quick: args.quick!,
      figures: [bigPost, smallPost, bigPost99, smallPost99, bigDecision, smallDecision],
      ratios: [postRatio, decisionRatio],
      notes: [
        `every member has a device; all but ${away} members of the large channel are looking at it, so ${told} are told`,
        'the app runs without projector, dispatcher or workers: the post path alone is timed; the decision is the consumer statement run from this process',
      ],
    });
  } finally {
    await db.end();
    await app.stop();
    if (!args.keep) await dropBenchDatabase(url).catch((err) => log(`could not drop the bench database: ${err}`));
  }
}

try {
  await main();
} finally {
  for (const child of children) child.kill('SIGKILL');
}
