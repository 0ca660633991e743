import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { ConfigError, loadConfig } from '../config/config.js';
import { createPool } from '../db/database.js';
import { EventStore } from '../event-store/event-store.js';
import { allProjections, findProjection } from '../projections/projections.js';
import { rebuildProjection } from '../projections/rebuild.js';

const program = new Command('rebuild')
  .description('Rebuild projections from position 0: truncate their tables, reset their checkpoints, replay the log.')
  .argument('[projections...]', `projection names (${allProjections().map((p) => p.name).join(', ')}); default: all`)
  .option('--batch-size <n>', 'events per transaction', (v) => Number(v), 1000)
  .option('--database-url <url>', 'PostgreSQL URL (default: DATABASE_URL)')
  .showHelpAfterError();

async function main(): Promise<void> {
  program.parse();
  const opts = program.opts<{ batchSize: number; databaseUrl?: string }>();
  const names = program.args.length ? program.args : allProjections().map((p) => p.name);
  const projections = names.map((name) => {
    const projection = findProjection(name);
    if (!projection) throw new ConfigError(`unknown projection "${name}" (known: ${allProjections().map((p) => p.name).join(', ')})`);
    return projection;
  });
  const config = opts.databaseUrl ? loadConfig({ DATABASE_URL: opts.databaseUrl }) : loadConfig();
  const pool = createPool(config.DATABASE_URL, 4);
  const store = new EventStore(pool, config);
  try {
    for (const projection of projections) {
      const bar = process.stderr.isTTY
        ? new cliProgress.SingleBar({ stream: process.stderr, format: `${projection.name} | {value} events applied | {duration}s` }, cliProgress.Presets.shades_classic)
        : undefined;
      bar?.start(0, 0);
      const result = await rebuildProjection(pool, config.DATABASE_URL, store, projection, {
        batchSize: opts.batchSize,
        onProgress: (n) => bar?.update(n),
      }).finally(() => bar?.stop());
      const how = result.replayedHere
        ? `${result.events} events in ${result.seconds.toFixed(2)} s (${Math.round(result.events / Math.max(result.seconds, 1e-6))} events/s)`
        : `replayed by the projector running on another node, caught up after ${result.seconds.toFixed(2)} s`;
      process.stdout.write(`rebuilt ${projection.name}: ${how}\n`);
    }
  } finally {
    await pool.end();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`rebuild: ${err instanceof ConfigError ? err.message : `failed: ${err instanceof Error ? err.message : String(err)}`}\n`);
  process.exit(1);
});
