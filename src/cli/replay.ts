import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig } from '../config/config.js';
import { replayCommand, UsageError } from './replay-command.js';

const positive = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a positive integer');
  return n;
};

const program = new Command('replay')
  .description('Replay event streams as NDJSON on stdout (progress on stderr when it is a terminal).')
  .option('-c, --channel <id>', 'one channel, in seq order (default: every channel, in global-cursor order)')
  .option('-w, --workspace <id>', "only this workspace's channels")
  .option('-t, --types <list>', 'comma-separated event types, e.g. message,message_changed')
  .option('--since <time>', 'events with ts >= this (Slack ts or ISO date)')
  .option('--until <time>', 'events with ts <= this (Slack ts or ISO date)')
  .option('-a, --after <position>', 'resume after this seq (--channel) or global cursor')
  .option('-f, --cursor-file <path>', 'resume from the position in this file, and keep it up to date')
  .option('-n, --limit <n>', 'stop after n events', positive)
  .option('--database-url <url>', 'PostgreSQL URL (default: DATABASE_URL)')
  .showHelpAfterError();

async function main(): Promise<void> {
  program.parse();
  const opts = program.opts();
  const config = opts.databaseUrl ? loadConfig({ DATABASE_URL: opts.databaseUrl }) : loadConfig();
  // `replay | head` closes stdout early: that is a normal way to stop.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
  });
  await replayCommand(config, opts, process.stdout, process.stderr);
}

main().catch((err: unknown) => {
  const known = err instanceof UsageError || err instanceof ConfigError;
  process.stderr.write(`replay: ${known ? (err as Error).message : `failed: ${err instanceof Error ? err.message : String(err)}`}\n`);
  process.exit(known ? 2 : 1);
});
