import { type ChildProcess, fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { freePort } from '../support/free-port.js';
import { waitFor } from '../support/wait-for.js';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const LOADER = fileURLToPath(new URL('../support/ts-loader.mjs', import.meta.url));

/** Pids whose parent is `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .flatMap((d) => {
      try {
        // Fields after the parenthesised command name: state, ppid, ...
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid ? [Number(d)] : [];
      } catch {
        return []; // gone meanwhile
      }
    });
}

/** The CLUSTER_WORKER_SLOT the primary gave a worker process (from its environment). */
function slotOf(pid: number): string | undefined {
  const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  return env.find((e) => e.startsWith('CLUSTER_WORKER_SLOT='))?.split('=')[1];
}

// `npm start` (src/main.ts) with WEB_CONCURRENCY=2: a primary and two workers sharing one port.
describe('npm start with WEB_CONCURRENCY', () => {
  let db: TestDatabase;
  let primary: ChildProcess | undefined;
  const start = (port: number, env: Record<string, string>) =>
    fork(MAIN, [], {
      execArgv: ['--import', LOADER],
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        DATABASE_URL: db.url,
        HOST: '127.0.0.1',
        PORT: String(port),
        WEB_CONCURRENCY: '2',
        PG_POOL_SIZE: '2',
        RELAY_POOL_SIZE: '1',
        LOG_LEVEL: 'silent',
        JOBS_PREFIX: `cluster${process.pid}`,
        ...env,
      },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    if (primary?.exitCode === null) primary.kill('SIGKILL');
    await db?.drop();
  });

  it('serves one port from two worker processes and stops them all on SIGTERM', async () => {
    const port = await freePort();
    primary = start(port, { ROLES: 'api' });
    const exited = new Promise<number | null>((resolve) => primary!.once('exit', (code) => resolve(code)));

    const up = async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status === 200;
    await waitFor(up, 60_000, 'the cluster to listen');
    // The port answers once the first worker listens: wait for the second to be forked too.
    await waitFor(() => childrenOf(primary!.pid!).length === 2, 60_000, 'two workers');
    const workers = childrenOf(primary.pid!);
    expect(workers).toHaveLength(2);
    // Fresh connections, handed round-robin to the workers: every one is answered.
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/api/auth.test`, { method: 'POST', headers: { connection: 'close' } });
      expect(await res.json()).toEqual({ ok: false, error: 'not_authed' });
    }

    primary.kill('SIGTERM');
    expect(await exited).toBe(0);
    const alive = (pid: number) => {
      try {
        return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1][0] !== 'Z';
      } catch {
        return false;
      }
    };
    await waitFor(() => !workers.some(alive), 10_000, 'the workers to exit');
  }, 90_000);

  it('runs the consumers in one worker only (slot 0), and in its replacement when it dies', async () => {
    const port = await freePort();
    primary = start(port, { ROLES: 'api,worker', CLUSTER_WORKER_SLOT: '' });
    const exited = new Promise<number | null>((resolve) => primary!.once('exit', (code) => resolve(code)));
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    try {
      // Every process that runs the projector holds one connection of its own for all the projections.
      const projectorConnections = async (since = '-infinity') =>
        (
          await pool.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity
              WHERE datname = current_database() AND application_name = 'projector:unread+search-index' AND backend_start > $1::timestamptz`,
            [since],
          )
        ).rows[0].n;
      await waitFor(() => childrenOf(primary!.pid!).length === 2, 60_000, 'two workers');
      const up = async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status === 200;
      await waitFor(up, 60_000, 'the cluster to listen');
      await waitFor(async () => (await projectorConnections()) === 1, 60_000, 'the consumers of one worker');
      const workers = childrenOf(primary.pid!);
      expect(workers.map(slotOf).sort()).toEqual(['0', '1']);
      // Both workers serve requests; the second one never starts the consumers.
      await new Promise((r) => setTimeout(r, 1000));
      expect(await projectorConnections()).toBe(1);

      // A worker that dies within 10 s of its start stops the cluster (a crash loop): wait that out.
      await new Promise((r) => setTimeout(r, 10_500));
      const first = workers.find((pid) => slotOf(pid) === '0')!;
      const killedAt = (await pool.query<{ at: string }>('SELECT now()::text AS at')).rows[0].at;
      process.kill(first, 'SIGKILL');
      await waitFor(
        () => {
          const now = childrenOf(primary!.pid!);
          return now.length === 2 && !now.includes(first);
        },
        60_000,
        'a replacement worker',
      );
      const replacement = childrenOf(primary.pid!).find((pid) => !workers.includes(pid))!;
      // Between fork and exec, /proc shows the primary's environment (its slot is empty).
      await waitFor(() => slotOf(replacement) !== '', 10_000, "the replacement's own environment");
      expect(slotOf(replacement)).toBe('0');
      await waitFor(async () => (await projectorConnections(killedAt)) === 1, 60_000, 'the replacement to run the consumers');
      await waitFor(async () => (await projectorConnections()) === 1, 10_000, "the dead worker's connection to go");
    } finally {
      await pool.end();
      primary.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  }, 150_000);
});
