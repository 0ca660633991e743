import { ConfigError, loadConfig } from './config/config.js';
import { ensureDatabase, migrate } from './db/database.js';
import { Logger } from 'nestjs-pino';
import { createApp, createWorker } from './app.js';
import { isClusterWorker, superviseWorkers } from './cluster.js';

async function main(): Promise<void> {
  const config = loadConfig();
  // The primary migrates once; cluster workers start on the migrated schema.
  if (!isClusterWorker()) {
    await ensureDatabase(config.DATABASE_URL);
    await migrate(config.DATABASE_URL, { distribution: config.DATABASE_DISTRIBUTION });
  }
  if (!config.ROLES.includes('api')) {
    const worker = await createWorker(config);
    worker.get(Logger).log(`atomcast worker running (roles: ${config.ROLES.join(',')})`);
    return;
  }
  if (!isClusterWorker() && config.WEB_CONCURRENCY > 1) {
    process.stderr.write(`atomcast: starting ${config.WEB_CONCURRENCY} worker processes (WEB_CONCURRENCY)\n`);
    superviseWorkers(config.WEB_CONCURRENCY, (line) => process.stderr.write(`atomcast: ${line}\n`));
    return;
  }
  const app = await createApp(config);
  await app.listen(config.PORT, config.HOST);
  app
    .get(Logger)
    .log(
      `atomcast listening on http://${config.HOST}:${config.PORT} (roles: ${config.ROLES.join(',')}; Slack API at /api, admin docs at /admin/docs)`,
    );
}

main().catch((err: unknown) => {
  // One line, no stack, for the reasons an operator can fix: bad config or an unreachable database.
  const reason = err instanceof ConfigError ? err.message : `cannot start: ${err instanceof Error ? err.message : String(err)}`;
  process.stderr.write(`atomcast: ${reason}\n`);
  process.exit(1);
});
