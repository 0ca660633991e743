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

/** A throw-away database cloned from the migrated template, so test files can run in parallel. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `atomcast_t_${randomBytes(5).toString('hex')}`;
  await withAdminClient(async (c) => {
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
    drop: () => withAdminClient((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}
