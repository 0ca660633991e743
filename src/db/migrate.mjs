// Brings a database to today's schema. The one implementation, used by the app (src/db/database.ts),
// `npm run migrate`, the test template (test/global-setup.mjs) and the schema snapshot (schema/snapshot.mjs);
// plain JS so that jest's global setup and the snapshot script can import it without a build.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PG_MIGRATE_LOCK_ID, runner } from 'node-pg-migrate';
import { delegateFunctions, distribute, resolveDistribution } from './citus.mjs';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));

/**
 * In one session holding node-pg-migrate's advisory lock (a concurrent migrate waits for it), and in
 * one transaction:
 * 1. every migrations/functions/*.sql file, in file-name order (the numeric prefix orders a function
 *    before the ones that need it), CREATE OR REPLACE: today's definition wins, whatever ran before;
 * 2. the pending table migrations, migrations/<timestamp>_<name>.sql, recorded in pgmigrations.
 * Functions go first so that a migration may name them (the events triggers); being plpgsql, they are
 * not checked against tables that do not exist yet.
 *
 * 3. on a Citus coordinator (`distribution` 'citus', or 'auto' and the citus extension is installed),
 *    in a second transaction: tables not distributed yet are distributed and the per-channel functions
 *    delegated (src/db/citus.mjs). A run that stops between the two is completed by the next one.
 *
 * @param {string} url
 * @param {{ log?: (msg: string) => void, dir?: string, distribution?: string }} [options] `dir`: the
 *   migrations folder (tests use a copy); `distribution`: 'auto' (default: DATABASE_DISTRIBUTION or
 *   detection), 'single' or 'citus'
 * @returns {Promise<string[]>} the table migrations this run applied
 */
export async function migrate(
  url,
  { log = () => {}, dir = MIGRATIONS_DIR, distribution = process.env.DATABASE_DISTRIBUTION ?? 'auto' } = {},
) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [PG_MIGRATE_LOCK_ID]);
    const citus = (await resolveDistribution(client, distribution)) === 'citus';
    // DDL inside the migrations (CREATE TRIGGER on a distributed table) propagates only when allowed.
    if (citus) await client.query('SET citus.enable_unsafe_triggers TO on');
    await client.query('BEGIN');
    try {
      for (const file of await functionFiles(dir)) await client.query(await readFile(file, 'utf8'));
      // node-pg-migrate's own BEGIN inside ours only draws a warning; its COMMIT (or ROLLBACK) ends
      // our transaction with its own, so functions and tables commit or roll back together.
      const applied = await runner({
        dbClient: client,
        dir,
        ignorePattern: '(?!\\d+_).*', // only <timestamp>_<name> files are migrations (subfolders are skipped anyway)
        direction: 'up',
        migrationsTable: 'pgmigrations',
        checkOrder: true,
        singleTransaction: true,
        noLock: true, // held above, for the functions too
        log,
      });
      await client.query('COMMIT');
      if (citus) {
        await distribute(client, log);
        await delegateFunctions(client);
      }
      return applied.map((m) => m.name);
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {}); // the connection may be gone; the error below says why
      throw err;
    }
  } finally {
    await client.end(); // ends the session, and with it the advisory lock
  }
}

/** @param {string} dir */
async function functionFiles(dir) {
  const names = (await readdir(join(dir, 'functions'))).filter((name) => name.endsWith('.sql')).sort();
  return names.map((name) => join(dir, 'functions', name));
}
