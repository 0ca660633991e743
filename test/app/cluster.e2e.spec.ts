import { type ChildProcess, fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
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

// `npm start` (src/main.ts) with WEB_CONCURRENCY=2: a primary and two workers sharing one port.
describe('npm start with WEB_CONCURRENCY', () => {
  let db: TestDatabase;
  let primary: ChildProcess | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    if (primary?.exitCode === null) primary.kill('SIGKILL');
    await db?.drop();
  });

  it('serves one port from two worker processes and stops them all on SIGTERM', async () => {
    const port = await freePort();
    primary = fork(MAIN, [], {
      execArgv: ['--import', LOADER],
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        DATABASE_URL: db.url,
        HOST: '127.0.0.1',
        PORT: String(port),
        WEB_CONCURRENCY: '2',
        ROLES: 'api',
        PG_POOL_SIZE: '2',
        RELAY_POOL_SIZE: '1',
        LOG_LEVEL: 'silent',
        JOBS_PREFIX: `cluster${process.pid}`,
      },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
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
});
