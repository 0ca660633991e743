import { Command } from 'commander';
import { ConfigError, loadConfig } from '../config/config.js';
import { PROJECTION_NAMES } from '../projections/projections.js';
import { rebuildCommand } from './rebuild-command.js';

const program = new Command('rebuild')
  .description('Rebuild projections from position 0: truncate their tables, reset their checkpoints, replay the log.')
  .argument('[projections...]', `projection names (${PROJECTION_NAMES.join(', ')}); default: all`)
  .option('--batch-size <n>', 'events per transaction', (v) => Number(v), 1000)
  .option('--database-url <url>', 'PostgreSQL URL (default: DATABASE_URL)')
  .showHelpAfterError();

async function main(): Promise<void> {
  program.parse();
  const opts = program.opts<{ batchSize: number; databaseUrl?: string }>();
  const config = opts.databaseUrl ? loadConfig({ DATABASE_URL: opts.databaseUrl }) : loadConfig();
  await rebuildCommand(config, program.args, { batchSize: opts.batchSize }, process.stdout, process.stderr);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `rebuild: ${err instanceof ConfigError ? err.message : `failed: ${err instanceof Error ? err.message : String(err)}`}\n`,
  );
  process.exit(1);
});
