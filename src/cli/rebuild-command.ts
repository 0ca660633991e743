import type { Writable } from 'node:stream';
import cliProgress from 'cli-progress';
import type pg from 'pg';
import { ConfigError, type Config } from '../config/config.js';
import { PG_POOL } from '../db/database.module.js';
import { EventStore } from '../event-store/event-store.js';
import { SearchKeys } from '../crypto/search-keys.js';
import { findProjection, PROJECTION_NAMES } from '../projections/projections.js';
import { rebuildProjection } from '../projections/rebuild.js';
import { createCliContext } from './cli.module.js';

/**
 * `npm run rebuild` as a whole: the projections named (default: all) rebuilt one after the other,
 * through the application context, so EKM bodies open for the rebuild as they do for the live
 * projector. A line per projection on `out`, a progress bar on `err` when it is a TTY.
 */
export async function rebuildCommand(
  config: Config,
  names: string[],
  opts: { batchSize: number },
  out: Writable,
  err: Writable & { isTTY?: boolean },
): Promise<void> {
  const wanted = names.length ? names : [...PROJECTION_NAMES];
  const unknown = wanted.find((name) => !(PROJECTION_NAMES as readonly string[]).includes(name));
  if (unknown) throw new ConfigError(`unknown projection "${unknown}" (known: ${PROJECTION_NAMES.join(', ')})`);
  const app = await createCliContext(config);
  try {
    const pool = app.get<symbol, pg.Pool>(PG_POOL);
    const store = app.get(EventStore);
    // Built inside the context: the search index hashes EKM workspaces' words with their keys.
    const deps = { searchKeys: app.get(SearchKeys) };
    const projections = wanted.map((name) => findProjection(name, deps)!);
    for (const projection of projections) {
      const bar = err.isTTY
        ? new cliProgress.SingleBar(
            { stream: err, format: `${projection.name} | {value} events applied | {duration}s` },
            cliProgress.Presets.shades_classic,
          )
        : undefined;
      bar?.start(0, 0);
      const result = await rebuildProjection(pool, config.DATABASE_URL, store, projection, {
        batchSize: opts.batchSize,
        onProgress: (n) => bar?.update(n),
      }).finally(() => bar?.stop());
      const how = result.replayedHere
        ? `${result.events} events in ${result.seconds.toFixed(2)} s (${Math.round(result.events / Math.max(result.seconds, 1e-6))} events/s)`
        : `replayed by the projector running on another node, caught up after ${result.seconds.toFixed(2)} s`;
      out.write(`rebuilt ${projection.name}: ${how}\n`);
    }
  } finally {
    await app.close();
  }
}
