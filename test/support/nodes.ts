import { createTestDatabase, type TestDatabase } from './databases.js';
import { TestApp } from './test-app.js';

/** Two nodes over one database, so one Redis prefix too (JOBS_PREFIX follows the database). */
export interface TwoNodes {
  db: TestDatabase;
  n1: TestApp;
  n2: TestApp;
  /** Closes both nodes, then drops the database. */
  close(): Promise<void>;
}

/**
 * Two nodes as behind a balancer: `env` for both, `n2Env` on top of it for the second only (e.g. a
 * node that does not dispatch jobs). If the second fails to start, the first and the database go.
 */
export async function startTwoNodes(env: Record<string, string> = {}, n2Env: Record<string, string> = {}): Promise<TwoNodes> {
  const db = await createTestDatabase();
  const started: TestApp[] = [];
  try {
    started.push(await TestApp.start(env, db));
    started.push(await TestApp.start({ ...env, ...n2Env }, db));
  } catch (err) {
    for (const node of started) await node.close();
    await db.drop();
    throw err;
  }
  const [n1, n2] = started;
  return {
    db,
    n1,
    n2,
    close: async () => {
      await n2.close();
      await n1.close();
      await db.drop();
    },
  };
}
