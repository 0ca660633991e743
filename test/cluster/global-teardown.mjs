import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CITUS_DIR } from './global-setup.mjs';

export default async function globalTeardown() {
  const dir = process.env.ATOMCAST_CITUS_DIR;
  if (!dir) return; // not ours
  await promisify(execFile)(join(CITUS_DIR, 'citus-cluster'), ['stop', dir], { timeout: 60_000 });
}
