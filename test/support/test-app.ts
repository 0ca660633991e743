import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import pg from 'pg';
import { createApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import { createRedis, type RedisConfig, scanTargets } from '../../src/db/redis.js';
import { createTestDatabase, type TestDatabase } from './databases.js';

export const OPERATOR_TOKEN = 'test-operator-token-0123456789';

export interface TestUser {
  id: string;
  token: string;
  workspace: string;
}

/**
 * A running app on a random port over its own throw-away database, plus small factories.
 * Usage: `const t = await startTestApp(); ... await t.close();`
 */
export class TestApp {
  private constructor(
    readonly app: NestFastifyApplication,
    readonly url: string,
    readonly db: TestDatabase,
    readonly pool: pg.Pool,
    readonly config: Config,
    /** False when the database was handed in (several nodes over one database): its owner drops it. */
    private readonly ownsDatabase = true,
  ) {}

  static async start(env: Record<string, string> = {}, database?: TestDatabase): Promise<TestApp> {
    const db = database ?? (await createTestDatabase());
    const config = loadConfig({
      DATABASE_URL: db.url,
      ADMIN_TOKEN: OPERATOR_TOKEN,
      LOG_LEVEL: 'silent',
      RATE_LIMIT_PER_MINUTE: '1000000',
      AUTH_FAILURES_PER_MINUTE: '1000000',
      PORT: '0',
      // BullMQ keys are namespaced per database, so test files never run each other's jobs.
      JOBS_PREFIX: db.name,
      ...env,
    });
    const app = await createApp(config);
    await app.listen(0, '127.0.0.1');
    const address = app.getHttpServer().address() as { port: number };
    const pool = new pg.Pool({ connectionString: db.url, max: 4 });
    // A client still closing when close() drops the database (WITH FORCE) gets a FATAL; without a
    // listener the pool would rethrow it as an unhandled 'error' into whichever test is running.
    pool.on('error', () => {});
    TestApp.running.set(config.JOBS_PREFIX, (TestApp.running.get(config.JOBS_PREFIX) ?? 0) + 1);
    return new TestApp(app, `http://127.0.0.1:${address.port}`, db, pool, config, !database);
  }

  /** Apps running per JOBS_PREFIX: nodes over one database share their queues until the last one closes. */
  private static readonly running = new Map<string, number>();

  /** The app, its pool, its BullMQ keys (once the last app of its prefix closed) and its database (if it made it). */
  async close(): Promise<void> {
    await this.app.close();
    await this.pool.end();
    const left = (TestApp.running.get(this.config.JOBS_PREFIX) ?? 1) - 1;
    if (left > 0) TestApp.running.set(this.config.JOBS_PREFIX, left);
    else {
      TestApp.running.delete(this.config.JOBS_PREFIX);
      await removeJobKeys(this.config, this.config.JOBS_PREFIX);
    }
    if (this.ownsDatabase) await this.db.drop();
  }

  /** Calls a Slack Web API method with a form body, as @slack/web-api does. */
  async api(method: string, token: string | undefined, args: Record<string, string | number | boolean> = {}) {
    const res = await this.post(method, token, args);
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
  }

  /** As api(), the answer's bytes as sent (for answers the app writes as text). */
  async apiText(method: string, token: string | undefined, args: Record<string, string | number | boolean> = {}) {
    const res = await this.post(method, token, args);
    return { status: res.status, headers: res.headers, text: await res.text() };
  }

  private post(method: string, token: string | undefined, args: Record<string, string | number | boolean>) {
    return fetch(`${this.url}/api/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: new URLSearchParams(Object.entries(args).map(([k, v]) => [k, String(v)])),
    });
  }

  /** Calls the admin API with the operator token unless another is given. */
  async admin(method: string, path: string, body?: unknown, token = OPERATOR_TOKEN) {
    const res = await fetch(`${this.url}/admin/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text(); // 204 has no body
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, any> };
  }

  async newWorkspace(name = 'Acme'): Promise<string> {
    const res = await this.admin('POST', '/workspaces', { name });
    if (res.status !== 201) throw new Error(`workspace: ${JSON.stringify(res.body)}`);
    return res.body.id;
  }

  private userCount = 0;

  async newUser(workspace: string, role: 'member' | 'admin' | 'analyst' = 'member', name?: string): Promise<TestUser> {
    const res = await this.admin('POST', `/workspaces/${workspace}/users`, { name: name ?? `user${++this.userCount}`, role });
    if (res.status !== 201) throw new Error(`user: ${JSON.stringify(res.body)}`);
    return { id: res.body.user.id, token: res.body.token, workspace };
  }

  /** Creates a channel through the API and returns its id. */
  async newChannel(owner: TestUser, name: string, isPrivate = false, members: TestUser[] = []): Promise<string> {
    const res = await this.api('conversations.create', owner.token, { name, is_private: isPrivate });
    if (!res.body.ok) throw new Error(`channel: ${JSON.stringify(res.body)}`);
    const id = res.body.channel.id as string;
    if (members.length) {
      const inv = await this.api('conversations.invite', owner.token, { channel: id, users: members.map((m) => m.id).join(',') });
      if (!inv.body.ok) throw new Error(`invite: ${JSON.stringify(inv.body)}`);
    }
    return id;
  }

  /** Row counts of the tables a write touches, to assert that a refused request wrote nothing. */
  async tableCounts(): Promise<Record<string, number>> {
    const { rows } = await this.pool.query<{ t: string; n: number }>(
      `SELECT 'events' t, count(*)::int n FROM events UNION ALL SELECT 'messages', count(*)::int FROM messages
       UNION ALL SELECT 'channels', count(*)::int FROM channels UNION ALL SELECT 'channel_members', count(*)::int FROM channel_members
       UNION ALL SELECT 'users', count(*)::int FROM users UNION ALL SELECT 'workspaces', count(*)::int FROM workspaces`,
    );
    return Object.fromEntries(rows.map((r) => [r.t, r.n]));
  }

  /** The tables with a row that holds `text` anywhere in clear (EKM specs expect none). */
  async tablesHolding(text: string): Promise<string[]> {
    const { rows: tables } = await this.pool.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    );
    const holding: string[] = [];
    for (const { table_name } of tables) {
      const { rows } = await this.pool.query(`SELECT count(*)::int AS n FROM "${table_name}" x WHERE x::text LIKE $1`, [`%${text}%`]);
      if (rows[0].n) holding.push(table_name);
    }
    return holding;
  }
}

/**
 * Deletes every Redis key under `<prefix>:` (BullMQ's queues, jobs and locks of one test app), on
 * every master of a cluster. A Redis that does not answer within a second (a test that stopped its
 * own) is left alone.
 */
export async function removeJobKeys(config: RedisConfig, prefix: string): Promise<void> {
  const redis = createRedis(config, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    for (const node of scanTargets(redis)) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        // One key at a time: on a cluster the keys of one scan may lie in different slots.
        for (const key of keys) await node.unlink(key);
        cursor = next;
      } while (cursor !== '0');
    }
  } catch {
    // Unreachable Redis: nothing to clean that this test could reach either.
  } finally {
    redis.disconnect();
  }
}
