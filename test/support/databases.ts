import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const SERVER_URL = process.env.TEST_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432';
/** Set by global-setup for this run, so concurrent test runs never share or drop each other's template. */
export const templateDb = () => process.env.ATOMCAST_TEST_TEMPLATE ?? 'atomcast_test_template';

export function databaseUrl(name: string): string {
  return `${SERVER_URL}/${name}`;
}

export async function withAdminClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl('postgres') });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/**
 * A throw-away database cloned from the migrated template, so test files can run in parallel;
 * `{ empty: true }`: an empty one instead (tests of migrate itself).
 */
export async function createTestDatabase({ empty = false } = {}): Promise<TestDatabase> {
  const name = `atomcast_t_${randomBytes(5).toString('hex')}`;
  await withAdminClient(async (c) => {
    if (empty) return void (await c.query(`CREATE DATABASE ${name}`));
    for (let attempt = 0; ; attempt++) {
      try {
        await c.query(`CREATE DATABASE ${name} TEMPLATE ${templateDb()}`);
        return;
      } catch (err) {
        // Two clones started at the same instant can see each other as users of the template.
        if ((err as { code?: string }).code !== '55006' || attempt > 20) throw err;
        await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
      }
    }
  });
  return {
    name,
    url: databaseUrl(name),
    drop: () => dropDatabase(name),
  };
}

/**
 * Drops a test database. Connections that are still closing get up to 3 s first: FORCE kills them,
 * and a killed idle client of a pool without an error listener would fail whatever test the jest
 * worker runs next. Connections still open after that are a leak, named on stderr.
 */
async function dropDatabase(name: string): Promise<void> {
  await withAdminClient(async (c) => {
    const open = async () =>
      (await c.query<{ app: string }>('SELECT application_name AS app FROM pg_stat_activity WHERE datname = $1', [name])).rows;
    for (let i = 0; i < 60 && (await open()).length; i++) await new Promise((r) => setTimeout(r, 50));
    const left = await open();
    if (left.length)
      process.stderr.write(`test database ${name}: ${left.length} connection(s) left open (${left.map((r) => r.app || '?').join(', ')})\n`);
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
}
