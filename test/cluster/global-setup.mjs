// The cluster suite's one Citus cluster (coordinator + 2 workers on free local ports), started by
// citus-cluster (test/support/citus.ts) and stopped by global-teardown.mjs. Each spec file makes its
// own distributed database on it (test/cluster/support/cluster.ts). Plain JS that loads the TypeScript
// helper through the project's loader hooks would be overkill: the helper's start is small, so it is
// here again.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const CITUS_DIR = process.env.CITUS_DIR ?? '/work/shared/citus';
const WORKERS = 2;

async function isFree(port) {
  const probe = createServer();
  try {
    await new Promise((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(port, '127.0.0.1', resolve);
    });
    return true;
  } catch {
    return false;
  } finally {
    await new Promise((resolve) => probe.close(() => resolve(undefined)));
  }
}

export default async function globalSetup() {
  if (process.env.ATOMCAST_CITUS_PORT) return; // a cluster the caller started
  const dir = mkdtempSync(join(tmpdir(), 'atomcast-citus-'));
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    let ok = true;
    for (let i = 0; i <= WORKERS && ok; i++) ok = await isFree(port + i);
    if (!ok) continue;
    await promisify(execFile)(join(CITUS_DIR, 'citus-cluster'), ['start', dir, String(port), String(WORKERS)], { timeout: 120_000 });
    process.env.ATOMCAST_CITUS_PORT = String(port);
    process.env.ATOMCAST_CITUS_DIR = dir;
    return;
  }
  throw new Error('no free range of ports for the Citus cluster');
}
