// `npm run schema:check` / `npm run schema:update`: the schema the migrations build, as one readable file.
// Migrates a scratch database with the app's own migrate(), dumps it with pg_dump --schema-only and
// normalises the dump (no comments, SET lines or version header; blank lines collapsed), then compares
// it with schema/snapshot.sql (check: a diff and exit 1 when they differ) or rewrites that file (update).
// pg_dump's major version must be the server's: another version prints the same schema differently.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { migrate } from '../src/db/migrate.mjs';

const SNAPSHOT = fileURLToPath(new URL('./snapshot.sql', import.meta.url));
const SERVER_URL = process.env.TEST_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432';
const PG_DUMP = process.env.PG_DUMP ?? 'pg_dump';

export function normalise(dump) {
  return `${dump
    .split('\n')
    .filter((line) => !/^(--|SET |SELECT pg_catalog\.set_config|\\restrict |\\unrestrict )/.test(line))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()}\n`;
}

async function dumpFreshSchema() {
  const name = `atomcast_schema_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: `${SERVER_URL}/postgres` });
  await admin.connect();
  try {
    const server = Number((await admin.query('SHOW server_version_num')).rows[0].server_version_num);
    const dumpMajor = Number(/(\d+)\.\d+/.exec(execFileSync(PG_DUMP, ['--version'], { encoding: 'utf8' }))?.[1]);
    if (Math.floor(server / 10000) !== dumpMajor) {
      throw new Error(`pg_dump ${dumpMajor} cannot snapshot a PostgreSQL ${Math.floor(server / 10000)} server; set PG_DUMP to its pg_dump`);
    }
    await admin.query(`CREATE DATABASE ${name}`);
    try {
      await migrate(`${SERVER_URL}/${name}`);
      // node-pg-migrate's bookkeeping table is not our schema.
      return execFileSync(
        PG_DUMP,
        [
          '--schema-only',
          '--no-owner',
          '--no-privileges',
          '--exclude-table=pgmigrations',
          '--exclude-table=pgmigrations_id_seq',
          `${SERVER_URL}/${name}`,
        ],
        {
          encoding: 'utf8',
        },
      );
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
  } finally {
    await admin.end();
  }
}

async function main(mode) {
  if (mode !== 'check' && mode !== 'update') throw new Error('usage: node schema/snapshot.mjs check|update');
  const schema = normalise(await dumpFreshSchema());
  if (mode === 'update') {
    writeFileSync(SNAPSHOT, schema);
    console.log(`schema: wrote ${SNAPSHOT}`);
    return;
  }
  let committed = '';
  try {
    committed = readFileSync(SNAPSHOT, 'utf8');
  } catch {
    // no snapshot yet: everything differs
  }
  if (committed === schema) {
    console.log('schema: the migrations build schema/snapshot.sql');
    return;
  }
  const built = join(tmpdir(), 'atomcast-schema-built.sql');
  writeFileSync(built, schema);
  spawnSync('diff', ['-u', '--label', 'schema/snapshot.sql (committed)', '--label', 'migrations (built)', SNAPSHOT, built], {
    stdio: 'inherit',
  });
  console.error(`schema: the migrations build another schema than schema/snapshot.sql (built: ${built}).
If the change is intended, run \`npm run schema:update\` and commit schema/snapshot.sql.`);
  process.exitCode = 1;
}

main(process.argv[2]).catch((err) => {
  console.error(`schema: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
