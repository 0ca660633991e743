import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { getPostgreSQLEventStore } from '@event-driven-io/emmett-postgresql';
import { loadConfig } from '../../src/config/config.js';
import { migrate } from '../../src/db/database.js';
import { EventStore } from '../../src/event-store/event-store.js';
import { PROJECTION_NAMES } from '../../src/projections/projections.js';
import { newChannelId, newUserId, newWorkspaceId } from '../../src/domain/ids.js';
import { issueToken } from '../../src/workspaces/tokens.js';

/** What every cell needs to find its data: the database and the seeded ids. */
export interface BenchData {
  url: string;
  workspace: string;
  users: Array<{ id: string; token: string }>;
  channels: string[];
}

/** The baseline (a): a row like an event, without the per-channel seq machinery. */
export const PLAIN_TABLE = 'bench_plain_events';

function withDatabase(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(serverUrl: string, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A fresh `atomcast_bench_<random>` database with our migrations, the baseline table and Emmett's schema. */
export async function createBenchDatabase(serverUrl: string): Promise<string> {
  const name = `atomcast_bench_${randomBytes(4).toString('hex')}`;
  await admin(serverUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = withDatabase(serverUrl, name);
  await migrate(url);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(
      `CREATE TABLE ${PLAIN_TABLE} (
         channel_id text NOT NULL, seq bigserial PRIMARY KEY, ts bigint NOT NULL,
         type text NOT NULL, user_id text, data jsonb NOT NULL DEFAULT '{}')`,
    );
  } finally {
    await client.end();
  }
  const emmett = getPostgreSQLEventStore(url);
  try {
    await emmett.schema.migrate();
  } finally {
    await emmett.close();
  }
  return url;
}

export async function dropBenchDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  if (!/^atomcast_bench_[0-9a-f]+$/.test(name)) throw new Error(`refusing to drop ${name}`);
  await admin(url, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

/**
 * One workspace, `users` users (one per client) and `channels` public channels, every user a member
 * of every channel, inserted with SQL in bulk (the API would take minutes for 64,000 memberships).
 */
export async function seed(url: string, users: number, channels: number): Promise<BenchData> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const workspace = newWorkspaceId();
    await client.query('INSERT INTO workspaces (id, name) VALUES ($1, $2)', [workspace, 'bench']);
    const seeded: BenchData['users'] = [];
    for (let i = 0; i < users; i++) {
      const id = newUserId();
      const token = issueToken();
      await client.query('INSERT INTO users (id, workspace_id, name, role) VALUES ($1, $2, $3, $4)', [
        id,
        workspace,
        `bench${i}`,
        'member',
      ]);
      await client.query('INSERT INTO tokens (id, user_id, secret_hash) VALUES ($1, $2, $3)', [token.id, id, token.secretHash]);
      seeded.push({ id, token: token.token });
    }
    const channelIds = Array.from({ length: channels }, () => newChannelId());
    await client.query(
      `INSERT INTO channels (id, workspace_id, name, is_private, creator)
       SELECT id, $2, 'bench-' || n, false, $3 FROM unnest($1::text[]) WITH ORDINALITY AS c(id, n)`,
      [channelIds, workspace, seeded[0].id],
    );
    await client.query(
      `INSERT INTO channel_members (channel_id, user_id, joined_seq)
       SELECT c, u, 0 FROM unnest($1::text[]) c CROSS JOIN unnest($2::text[]) u`,
      [channelIds, seeded.map((u) => u.id)],
    );
    await client.query('ANALYZE');
    return { url, workspace, users: seeded, channels: channelIds };
  } finally {
    await client.end();
  }
}

/** A checkpoint between cells, so one cell's dirty pages are not written during the next one. */
export async function settle(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('CHECKPOINT');
  } finally {
    await client.end();
  }
}

/** Connections still free on the server (max_connections minus sessions, minus the reserved ones). */
export async function freeConnections(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ free: number }>(
      `SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int
              - (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int AS free`,
    );
    return rows[0].free;
  } finally {
    await client.end();
  }
}

/** Every consumer of the log that keeps a checkpoint: the projections, the job and notify dispatchers. */
const CONSUMERS = [...PROJECTION_NAMES, 'job-dispatch', 'notify'];

async function withStore<T>(url: string, work: (store: EventStore, pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    return await work(new EventStore(pool, loadConfig({ DATABASE_URL: url })), pool);
  } finally {
    await pool.end();
  }
}

/**
 * Moves the consumers' checkpoints to the head of the log, so that an app started next measures
 * posts as they come, not its consumers catching up with every earlier cell's events (that catch-up
 * kept a profiled app busy past its stop, and would sit in a low-load run's latencies).
 */
export async function consumersAtHead(url: string): Promise<void> {
  await withStore(url, async (store, pool) => {
    const head = await store.head();
    if (!head) return;
    const { rows } = await pool.query<{ name: string }>('SELECT name FROM checkpoints');
    for (const name of new Set([...CONSUMERS, ...rows.map((r) => r.name)])) await store.storeCheckpoint(pool, name, head);
  });
}

/** The database's clock: what `consumersCaughtUp` compares checkpoint updates with. */
export async function databaseNow(url: string): Promise<string> {
  return withStore(url, async (_, pool) => (await pool.query<{ now: string }>('SELECT now()::text AS now')).rows[0].now);
}

/**
 * Waits until the app's consumers have applied every event (their checkpoints at the head of the
 * log), for at most `timeoutMs`; false when they had not by then. A consumer whose checkpoint has
 * not moved since `since` (taken before posts began) does not run in this app and is not waited for.
 */
export async function consumersCaughtUp(url: string, since: string, timeoutMs: number): Promise<boolean> {
  return withStore(url, async (store, pool) => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await pool.query<{ name: string }>('SELECT name FROM checkpoints WHERE updated_at > $1', [since]);
      let behind = 0;
      for (const { name } of rows) behind += (await store.behind(await store.loadCheckpoint(name), 1)).n;
      if (!behind) return true;
      if (Date.now() > until) return false;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
}
