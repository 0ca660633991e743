import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Every stored object (path, bytes) under a files directory (FILES_DIR of the local storage driver). */
export async function storedFiles(dir: string): Promise<Array<{ path: string; bytes: Buffer }>> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return Promise.all(
    entries
      .filter((e) => e.isFile())
      .map(async (e) => ({ path: join(e.parentPath, e.name), bytes: await readFile(join(e.parentPath, e.name)) })),
  );
}
