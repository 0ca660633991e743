import type { Readable } from 'node:stream';

/** A byte range, both ends included (HTTP Range semantics). */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Where file bytes live: a local directory or an S3-compatible bucket. Keys are opaque paths made
 * by the caller (`<workspace>/<file id>`). Both directions stream: no driver holds a whole file in
 * memory.
 */
export interface FileStorage {
  readonly kind: 'local' | 's3';
  /** Stores the stream under `key` (replacing any object there); resolves once it is durable. */
  write(key: string, bytes: Readable): Promise<void>;
  /** The stored bytes (a range of them); throws StorageNotFound when the key has nothing. */
  read(key: string, range?: ByteRange): Promise<Readable>;
  /** The stored size in bytes, or undefined when nothing is stored under `key`. */
  size(key: string): Promise<number | undefined>;
  /** Removes the object; a key with nothing stored is not an error. */
  delete(key: string): Promise<void>;
  /**
   * A URL a client may PUT exactly `length` bytes to for `expiresInSeconds`, so the bytes do not pass
   * through the app; undefined when the driver has no such thing (the local directory).
   */
  presignPut(key: string, length: number, expiresInSeconds: number): Promise<string | undefined>;
}

export class StorageNotFound extends Error {
  constructor(key: string) {
    super(`no stored object under ${key}`);
    this.name = 'StorageNotFound';
  }
}

export const FILE_STORAGE = Symbol('FILE_STORAGE');
