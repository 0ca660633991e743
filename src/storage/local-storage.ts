import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type ByteRange, type FileStorage, StorageNotFound } from './file-storage.js';

/** Larger reads and writes than Node's 64 KiB / 16 KiB defaults: fewer system calls per megabyte. */
const IO_BYTES = 1024 * 1024;

/**
 * Bytes as files under one directory. A write goes to a temporary name and is renamed into place
 * once complete, so a reader never sees half a file and a failed upload leaves nothing behind.
 */
export class LocalStorage implements FileStorage {
  readonly kind = 'local' as const;
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** Creates the directory (at start, so a bad FILES_DIR fails the start, not the first upload). */
  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true });
  }

  async write(key: string, bytes: Readable): Promise<void> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    const partial = `${path}.${randomBytes(6).toString('hex')}.part`;
    try {
      await pipeline(bytes, createWriteStream(partial, { flags: 'wx', highWaterMark: IO_BYTES }));
      await rename(partial, path);
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    const path = this.path(key);
    if ((await this.size(key)) === undefined) throw new StorageNotFound(key);
    return createReadStream(path, { highWaterMark: IO_BYTES, ...(range ? { start: range.start, end: range.end } : {}) });
  }

  async size(key: string): Promise<number | undefined> {
    try {
      const s = await stat(this.path(key));
      return s.isFile() ? s.size : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  async presignPut(): Promise<undefined> {
    return undefined;
  }

  /** Keys are ours (ids), but a key that would leave the directory is refused all the same. */
  private path(key: string): string {
    const path = resolve(join(this.root, key));
    if (!path.startsWith(this.root + sep)) throw new Error('storage key outside the files directory');
    return path;
  }
}
