import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { OPERATOR_TOKEN, TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait-for.js';

const APP_PROCESS = fileURLToPath(new URL('../support/app-process.ts', import.meta.url));
const LOADER = fileURLToPath(new URL('../support/ts-loader.mjs', import.meta.url));

/** The app in its own Node process over `db` (so it can be killed with SIGKILL); resolves with its URL. */
function startNode(db: TestDatabase, prefix: string, env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(APP_PROCESS, [], {
    execArgv: ['--import', LOADER],
    env: {
      ...process.env,
      NODE_OPTIONS: '',
      DATABASE_URL: db.url,
      ADMIN_TOKEN: OPERATOR_TOKEN,
      LOG_LEVEL: 'silent',
      RATE_LIMIT_PER_MINUTE: '1000000',
      JOBS_PREFIX: prefix,
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (msg: { port: number }) => resolve({ child, url: `http://127.0.0.1:${msg.port}` }));
    child.once('exit', (code) => reject(new Error(`app process exited with ${code}`)));
  });
}

async function call(url: string, method: string, token: string, args: Record<string, string | number>) {
  const res = await fetch(`${url}/api/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(args),
  });
  return (await res.json()) as Record<string, any>;
}

async function admin(url: string, path: string, body: unknown) {
  const res = await fetch(`${url}/admin/v1${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await res.json()) as Record<string, any>;
}

// The node that accepted chat.scheduleMessage (its own process, api + worker + dispatcher) is
// killed with SIGKILL before the post is due, once before and once after its dispatcher queued the
// job; a second node over the same database and Redis prefix posts the message, exactly once.
describe('a scheduled message survives a kill -9 of the node that scheduled it', () => {
  let db: TestDatabase;
  let survivor: TestApp | undefined;
  let pool: pg.Pool;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await survivor?.close();
    await pool.end();
    await db.drop();
  });

  it.each([
    ['before its dispatcher queued the job', false],
    ['after its dispatcher queued the job', true],
  ])('killed %s', async (_, dispatched) => {
    const prefix = `${db.name}_${dispatched ? 'after' : 'before'}`;
    // Without a dispatcher the row cannot have been queued when the node dies.
    const node = await startNode(db, prefix, { JOBS_DISPATCHER_ENABLED: String(dispatched) });
    children.push(node.child);
    const ws = (await admin(node.url, '/workspaces', { name: 'Crash' })).id as string;
    const ada = await admin(node.url, `/workspaces/${ws}/users`, { name: 'ada', role: 'member' });
    const created = await call(node.url, 'conversations.create', ada.token, { name: `crash-${dispatched}` });
    const channel = created.channel.id as string;
    const postAt = Math.floor(Date.now() / 1000) + 3;
    const scheduled = await call(node.url, 'chat.scheduleMessage', ada.token, { channel, text: 'survives', post_at: postAt });
    expect(scheduled.ok).toBe(true);
    const id = scheduled.scheduled_message_id as string;
    const dispatchedAt = async () =>
      (await pool.query('SELECT dispatched_at IS NOT NULL AS d FROM scheduled_messages WHERE id = $1', [id])).rows[0].d as boolean;
    if (dispatched) await waitFor(dispatchedAt, 10_000, 'dispatched by the first node');
    node.child.kill('SIGKILL');
    await new Promise((resolve) => node.child.once('exit', resolve));
    if (!dispatched) expect(await dispatchedAt()).toBe(false);

    survivor = await TestApp.start({ JOBS_PREFIX: prefix }, db);
    try {
      await waitFor(
        async () => (await pool.query('SELECT state FROM scheduled_messages WHERE id = $1', [id])).rows[0].state === 'posted',
        30_000,
        'posted by the surviving node',
      );
      const { rows } = await pool.query(`SELECT e.user_id, e.ts FROM events e WHERE e.channel_id = $1 AND e.type = 'message'`, [channel]);
      expect(rows).toHaveLength(1);
      expect(rows[0].user_id).toBe(ada.user.id);
      expect(Number(rows[0].ts) / 1e6).toBeGreaterThanOrEqual(postAt);
    } finally {
      await survivor.close();
      survivor = undefined;
    }
  });
});
