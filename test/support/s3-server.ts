import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.js';

/** s3rver's built-in credentials. */
export const S3_KEY = 'S3RVER';

export interface S3Server {
  endpoint: string;
  bucket: string;
  /** Where s3rver keeps the objects on disk (to check what the bucket holds). */
  directory: string;
  /** Env for TestApp.start: the app stores files in this bucket. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** Starts s3rver (npm) on a free loopback port in a child process; stop() ends it and removes its data. */
export async function startS3Server(bucket = 'atomcast-files'): Promise<S3Server> {
  const directory = await mkdtemp(join(tmpdir(), 'atomcast-s3-'));
  const port = await freePort();
  const script = fileURLToPath(new URL('./s3rver-process.mjs', import.meta.url));
  const child: ChildProcess = spawn(process.execPath, [script, String(port), directory, bucket], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code}`)));
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
  });
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    directory,
    env: {
      FILES_S3_BUCKET: bucket,
      FILES_S3_ENDPOINT: endpoint,
      FILES_S3_ACCESS_KEY_ID: S3_KEY,
      FILES_S3_SECRET_ACCESS_KEY: S3_KEY,
    },
    async stop() {
      child.removeAllListeners('exit');
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      await rm(directory, { recursive: true, force: true });
    },
  };
}
