import { execFile } from 'node:child_process';
import { appendFile, chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './free-port.js';

const run = promisify(execFile);
// The server's tools (initdb, pg_ctl) are not on PATH on Debian: PG_BIN, else pg_config's answer.
const BIN =
  process.env.PG_BIN ??
  (await run('pg_config', ['--bindir']).then(
    ({ stdout }) => stdout.trim(),
    () => '/usr/lib/postgresql/15/bin',
  ));

/** PostgreSQL refuses to run as root: as root, run its tools as the `postgres` user (as ../shared/citus/citus-cluster does). */
async function asPostgres(tool: string, args: string[]): Promise<void> {
  const root = process.getuid?.() === 0;
  await run(root ? 'runuser' : join(BIN, tool), root ? ['-u', 'postgres', '--', join(BIN, tool), ...args] : args, { timeout: 60_000 });
}

export interface ThrowawayPostgres {
  port: number;
  /** A connection URL for `database` on this server (user postgres, trust auth on loopback). */
  url(database?: string): string;
  /** Runs SQL (one statement or several) in `database`; returns the last statement's rows. */
  query<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, database?: string): Promise<T[]>;
  /** The end of the server's log, for a failure message. */
  logTail(lines?: number): Promise<string>;
  stop(): Promise<void>;
}

/**
 * A PostgreSQL server of a test's own (initdb in a temp dir, a free loopback port), for what the
 * shared server must not change: `wal_level = logical`, subscriptions, replication slots.
 */
export async function startPostgres(settings: Record<string, string> = {}): Promise<ThrowawayPostgres> {
  const dir = await mkdtemp(join(tmpdir(), 'atomcast-pg-'));
  const data = join(dir, 'data');
  const port = await freePort();
  if (process.getuid?.() === 0) await chown(dir, ...(await postgresIds()));
  const stop = async () => {
    await asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await asPostgres('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync']);
    const conf = { port: String(port), listen_addresses: "'127.0.0.1'", unix_socket_directories: `'${dir}'`, fsync: 'off', ...settings };
    await appendFile(
      join(data, 'postgresql.conf'),
      Object.entries(conf)
        .map(([k, v]) => `${k} = ${v}\n`)
        .join(''),
    );
    await asPostgres('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', 'start']);
  } catch (err) {
    await stop();
    throw err;
  }
  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`;
  return {
    port,
    url,
    async query(sql, database) {
      const client = new pg.Client({ connectionString: url(database) });
      await client.connect();
      try {
        const result = (await client.query(sql)) as pg.QueryResult | pg.QueryResult[]; // an array for several statements
        return (Array.isArray(result) ? result[result.length - 1]! : result).rows;
      } finally {
        await client.end();
      }
    },
    async logTail(lines = 20) {
      const text = await readFile(join(dir, 'log'), 'utf8').catch(() => '');
      return text.split('\n').slice(-lines).join('\n');
    },
    stop,
  };
}

async function postgresIds(): Promise<[number, number]> {
  const { stdout } = await run('id', ['-u', 'postgres']);
  const { stdout: gid } = await run('id', ['-g', 'postgres']);
  return [Number(stdout.trim()), Number(gid.trim())];
}
