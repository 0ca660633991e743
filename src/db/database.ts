import { Logger } from '@nestjs/common';
import pg from 'pg';

// Table migrations and function files are applied by one implementation, shared with the test set-up.
export { MIGRATIONS_DIR, migrate } from './migrate.mjs';

/** Creates the database named in `url` if it does not exist yet (`npm start` on a fresh machine). */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`).catch((err) => {
        if (err.code !== '42P04') throw err; // another node created it first
      });
    }
  } finally {
    await client.end();
  }
}

export function createPool(url: string, max: number): pg.Pool {
  // A bounded wait for a connection: with PostgreSQL unreachable (not refusing), a request answers
  // 503 instead of hanging.
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 10_000 });
  // An idle client losing its connection (e.g. a PostgreSQL restart) must not crash the process.
  pool.on('error', () => {});
  return pool;
}

export type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

/** Runs `work` in one transaction on a pooled client; rolls back on any throw. */
export async function inTransaction<T>(pool: pg.Pool, work: (tx: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

// Errors that mean "PostgreSQL cannot be reached right now", not "this request is wrong": socket
// errors, class 08 (connection exception), shutdown / starting up (57P0x), too many connections.
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);
const UNREACHABLE_MESSAGE =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection terminated unexpectedly)/;

export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; errors?: unknown[] } | undefined;
  if (!e || typeof e !== 'object') return false;
  if (typeof e.code === 'string' && (UNREACHABLE.has(e.code) || /^(08...|57P0[123]|53300)$/.test(e.code))) return true;
  if (typeof e.message === 'string' && UNREACHABLE_MESSAGE.test(e.message)) return true;
  // Node reports a refused connection to several addresses (127.0.0.1 and ::1) as an AggregateError.
  return Array.isArray(e.errors) && e.errors.some(isDatabaseUnavailable);
}

/**
 * One log line when PostgreSQL becomes unreachable and one when it is back, instead of a stack per
 * failed request. "Back" is the pool's next new connection.
 */
export class DatabaseOutage {
  private since: number | undefined;
  private readonly log = new Logger('Database');

  constructor(pool: pg.Pool) {
    pool.on('connect', () => this.recovered());
  }

  get down(): boolean {
    return this.since !== undefined;
  }

  noteUnavailable(err: unknown): void {
    if (this.since !== undefined) return;
    this.since = Date.now();
    const code = (err as { code?: string }).code ?? (err as Error).message;
    this.log.error(`PostgreSQL is unavailable (${code}): requests answer 503 with Retry-After until it is back`);
  }

  private recovered(): void {
    if (this.since === undefined) return;
    this.log.log(`PostgreSQL is back after ${Math.round((Date.now() - this.since) / 1000)} s`);
    this.since = undefined;
  }
}
