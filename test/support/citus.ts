import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { migrate } from '../../src/db/migrate.mjs';

// A Citus cluster on this machine (coordinator + workers on consecutive free ports), for the cluster
// suite (test/cluster) and bench:citus. The cluster script is ../shared/citus/citus-cluster
// (CITUS_DIR overrides where it is: CI runs from a clone whose parent is not /work).
export const CITUS_DIR = process.env.CITUS_DIR ?? '/work/shared/citus';

async function isFree(port: number): Promise<boolean> {
  const probe = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(port, '127.0.0.1', () => resolve());
    });
    return true;
  } catch {
    return false;
  } finally {
    await new Promise((resolve) => probe.close(() => resolve(undefined)));
  }
}

export async function startCitusCluster(workers = 2): Promise<{ port: number; workers: number; dir: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'atomcast-citus-'));
  const script = join(CITUS_DIR, 'citus-cluster');
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    let ok = true;
    for (let i = 0; i <= workers && ok; i++) ok = await isFree(port + i);
    if (!ok) continue;
    await promisify(execFile)(script, ['start', dir, String(port), String(workers)], { timeout: 120_000 });
    return { port, workers, dir, stop: () => promisify(execFile)(script, ['stop', dir], { timeout: 60_000 }).then(() => {}) };
  }
  throw new Error('no free range of ports for the Citus cluster');
}

export const nodeUrl = (port: number, db: string) => `postgres://postgres@127.0.0.1:${port}/${db}`;

async function onNode(port: number, db: string, work: (c: pg.Client) => Promise<unknown>): Promise<void> {
  const c = new pg.Client({ connectionString: nodeUrl(port, db) });
  await c.connect();
  try {
    await work(c);
  } finally {
    await c.end();
  }
}

/**
 * A database on the cluster, distributed as `npm run migrate` distributes one: created on every node
 * (propagated), the citus extension in each, the workers added, then the app's own migrate().
 */
export async function createCitusDatabase(
  port: number,
  workers = 2,
  prefix = 'atomcast_c',
): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  await onNode(port, 'postgres', async (c) => {
    await c.query('SET citus.enable_create_database_propagation TO on');
    await c.query(`CREATE DATABASE ${name}`);
    // Few shards (2 per worker) and one connection per worker for multi-shard reads: on a small box
    // each extra shard or connection is pure overhead (docs/scaling.md, "The switch").
    await c.query(`ALTER DATABASE ${name} SET citus.shard_count = ${2 * workers}`);
    await c.query(`ALTER DATABASE ${name} SET citus.max_adaptive_executor_pool_size = 1`);
  });
  for (let i = 0; i <= workers; i++) await onNode(port + i, name, (c) => c.query('CREATE EXTENSION IF NOT EXISTS citus'));
  await onNode(port, name, async (c) => {
    await c.query('SELECT citus_set_coordinator_host($1, $2)', ['127.0.0.1', port]);
    for (let i = 1; i <= workers; i++) await c.query('SELECT citus_add_node($1, $2)', ['127.0.0.1', port + i]);
  });
  await migrate(nodeUrl(port, name), { distribution: 'citus' });
  const drop = async () => {
    await onNode(port, 'postgres', async (c) => {
      await c.query('SET citus.enable_create_database_propagation TO on');
      // Sessions the coordinator still holds to the workers can make a worker refuse for a moment.
      for (let attempt = 0; ; attempt++) {
        try {
          await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
          return;
        } catch (err) {
          if (attempt >= 20) throw err;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    });
    for (let i = 1; i <= workers; i++) await onNode(port + i, 'postgres', (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  };
  return { name, url: nodeUrl(port, name), drop };
}
