import { ConfigError, loadConfig } from '../config/config.js';
import { ensureDatabase, migrate } from '../db/database.js';

/** `npm run migrate`: create the database if missing and apply pending migrations, then exit. */
async function main(): Promise<void> {
  const config = loadConfig();
  await ensureDatabase(config.DATABASE_URL);
  await migrate(config.DATABASE_URL, { log: (msg) => process.stdout.write(`${msg}\n`), distribution: config.DATABASE_DISTRIBUTION });
}

main().catch((err: unknown) => {
  process.stderr.write(
    `migrate: ${err instanceof ConfigError ? err.message : `failed: ${err instanceof Error ? err.message : String(err)}`}\n`,
  );
  process.exit(1);
});
