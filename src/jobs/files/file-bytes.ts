import { Inject, Injectable, Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { randomBytes } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BodyCipher, covers } from '../../crypto/body-cipher.js';
import { EkmRepository } from '../../crypto/ekm.repository.js';
import { newDataKey } from '../../crypto/envelope.js';
import { KeyAccessDenied, KeyServiceUnavailable } from '../../crypto/key-provider.js';
import { SlackError } from '../../domain/slack-error.js';
import { openFileStream, sealedRange, sealFileStream } from '../../crypto/file-cipher.js';
import { type ByteRange, FILE_STORAGE, type FileStorage } from '../../storage/file-storage.js';
import type { FileRow, ImageType } from './files.repository.js';
import { sniffImage, SNIFF_BYTES } from './sniff.js';

/** The upload went past FILES_MAX_BYTES; nothing was kept. */
export class FileTooLarge extends Error {
  constructor() {
    super('file_too_large');
    this.name = 'FileTooLarge';
  }
}

/** EKM: the customer revoked access to this file (or its key will not unwrap): `ekm_access_denied`. */
export class FileAccessDenied extends Error {
  constructor() {
    super('ekm_access_denied');
    this.name = 'FileAccessDenied';
  }
}

export interface WrappedFileKey {
  key: Buffer;
  version: number;
  ref: string;
}

/** The aad of a file's bytes and of its thumbnail: a sealed object copied under another file does not open. */
const bytesAad = (file: Pick<FileRow, 'id'>) => `file:${file.id}`;
const thumbAad = (file: Pick<FileRow, 'id'>) => `thumb:${file.id}`;

const KEY_TTL_MS = 5 * 60_000;

/**
 * A file's bytes in and out of storage: counted against the size limit and sniffed on the way in,
 * sealed in frames (EKM workspaces: a data key per file, wrapped by the workspace's KEK through its
 * key provider, as message bodies' keys are), opened on the way out, a range of them for media.
 * Revocations are read on every open, so revoking takes effect at once.
 */
@Injectable()
export class FileBytes {
  private readonly log = new Logger('FileBytes');
  private readonly keys = new LRUCache<string, Buffer>({ max: 10_000, ttl: KEY_TTL_MS });

  constructor(
    @Inject(FILE_STORAGE) readonly storage: FileStorage,
    private readonly cipher: BodyCipher,
    private readonly ekm: EkmRepository,
  ) {}

  /**
   * A new data key for a file of an EKM workspace, and its wrapped form; undefined outside EKM. A
   * KEK the provider refuses is `ekm_access_denied`; a provider that fails, `ekm_unavailable` (503).
   */
  async newKey(workspace: string): Promise<{ key: Buffer; wrapped: WrappedFileKey } | undefined> {
    const settings = await this.cipher.settings(workspace, true);
    if (!settings) return undefined;
    const key = newDataKey();
    const wrapped = await this.cipher
      .provider(settings.provider)
      .wrap(workspace, settings.key_ref, key)
      .catch((err: unknown) => {
        throw err instanceof KeyAccessDenied ? new SlackError('ekm_access_denied') : new KeyServiceUnavailable(err);
      });
    return { key, wrapped: { key: wrapped, version: settings.key_version, ref: settings.key_ref } };
  }

  /** Whether a revocation covers the file (its channel and message ts; unshared files: their upload time). */
  async revoked(file: FileRow): Promise<boolean> {
    if (!file.encrypted) return false;
    const ts = file.message_ts ? BigInt(file.message_ts) : BigInt(file.created_at.getTime()) * 1000n;
    const active = await this.ekm.activeRevocations([file.workspace_id]);
    return active.some((r) => covers(r, file.channel_id ?? '', ts));
  }

  /**
   * The file's data key; FileAccessDenied when revoked or when the provider refuses to unwrap it,
   * KeyServiceUnavailable (`ekm_unavailable`, 503) when the provider fails otherwise: a key service
   * that is down must not look like a revoked key.
   */
  async key(file: FileRow): Promise<Buffer> {
    if (await this.revoked(file)) throw new FileAccessDenied();
    const slot = `${file.id}:${file.key_version}`;
    const hit = this.keys.get(slot);
    if (hit) return hit;
    const settings = await this.cipher.settings(file.workspace_id);
    try {
      const key = await this.cipher.provider(settings?.provider ?? 'local').unwrap(file.workspace_id, file.key_ref!, file.wrapped_key!);
      this.keys.set(slot, key);
      return key;
    } catch (err) {
      if (err instanceof KeyAccessDenied) throw new FileAccessDenied();
      this.log.warn(`the key service failed to unwrap the key of file ${file.id}: ${(err as Error).message}`);
      throw err instanceof KeyServiceUnavailable ? err : new KeyServiceUnavailable(err);
    }
  }

  /**
   * Streams an upload into storage under the file's key: at most `maxBytes` (FileTooLarge past it,
   * and nothing stays stored), sealed when the file has a key. Returns the plaintext size and the
   * image type its first bytes show.
   */
  async store(file: FileRow, input: Readable, maxBytes: number, key?: Buffer): Promise<{ size: number; imageType: ImageType | null }> {
    const meter = new Meter(maxBytes);
    const sealed = file.encrypted ? sealFileStream(key ?? (await this.key(file)), bytesAad(file)) : undefined;
    const body = sealed ? input.pipe(meter).pipe(sealed) : input.pipe(meter);
    // An error on either side (client gone, limit passed) must end the write, not hang it.
    input.once('error', (err) => body.destroy(err));
    meter.once('error', (err) => sealed?.destroy(err));
    try {
      await this.storage.write(file.storage_key, body);
    } catch (err) {
      if (meter.tooLarge) throw new FileTooLarge();
      throw err;
    }
    if (meter.tooLarge) {
      await this.storage.delete(file.storage_key);
      throw new FileTooLarge();
    }
    return { size: meter.bytes, imageType: sniffImage(meter.head) };
  }

  /** Checks bytes a client PUT to a presigned URL (S3, plaintext only): their size and image type. */
  async inspect(file: FileRow): Promise<{ size: number; imageType: ImageType | null } | undefined> {
    const size = await this.storage.size(file.storage_key);
    if (size === undefined) return undefined;
    if (size === 0) return { size, imageType: null };
    const head = await readAll(await this.storage.read(file.storage_key, { start: 0, end: Math.min(size, SNIFF_BYTES) - 1 }));
    return { size, imageType: sniffImage(head) };
  }

  /** The plaintext bytes (a range of them) of a stored file; FileAccessDenied under a revocation. */
  async open(file: FileRow, range?: ByteRange): Promise<Readable> {
    if (!file.encrypted) return this.storage.read(file.storage_key, range);
    const key = await this.key(file);
    const size = Number(file.size);
    if (!range) return pipe(await this.storage.read(file.storage_key), openFileStream(key, bytesAad(file)));
    const r = sealedRange(range.start, range.end, size);
    const opened = pipe(
      await this.storage.read(file.storage_key, r.sealed),
      openFileStream(key, bytesAad(file), { firstFrame: r.firstFrame, toEnd: r.toEnd }),
    );
    return pipe(opened, slice(r.skip, r.length));
  }

  async storeThumbnail(file: FileRow, key: string, png: Buffer): Promise<void> {
    if (!file.encrypted) return this.storage.write(key, Readable.from([png]));
    await this.storage.write(key, Readable.from([png]).pipe(sealFileStream(await this.key(file), thumbAad(file))));
  }

  async openThumbnail(file: FileRow): Promise<Readable> {
    const stored = await this.storage.read(file.thumb_key!);
    if (!file.encrypted) return stored;
    return pipe(stored, openFileStream(await this.key(file), thumbAad(file)));
  }

  /**
   * Seals a plaintext file (its workspace turned EKM on): writes the sealed bytes (and thumbnail)
   * under new keys and returns them; the caller records them, then removes the plaintext objects.
   * The keys are new to each call: two seals of one file at once (the encrypt run and a completion)
   * never write over each other's objects, so the one recorded opens under the key recorded with it.
   */
  async seal(file: FileRow, key: Buffer): Promise<{ storageKey: string; thumbKey: string | null }> {
    const tag = randomBytes(6).toString('hex');
    const storageKey = `${file.storage_key}.${tag}.sealed`;
    if ((await this.storage.size(file.storage_key)) !== undefined)
      await this.storage.write(storageKey, (await this.storage.read(file.storage_key)).pipe(sealFileStream(key, bytesAad(file))));
    let thumbKey: string | null = null;
    if (file.thumb_key && (await this.storage.size(file.thumb_key)) !== undefined) {
      thumbKey = `${file.thumb_key}.${tag}.sealed`;
      await this.storage.write(thumbKey, (await this.storage.read(file.thumb_key)).pipe(sealFileStream(key, thumbAad(file))));
    }
    return { storageKey, thumbKey };
  }

  /** Removes the file's bytes and thumbnail from storage (physically: files.delete, retention, the sweep). */
  async remove(file: Pick<FileRow, 'storage_key' | 'thumb_key'>): Promise<void> {
    await this.storage.delete(file.storage_key);
    if (file.thumb_key) await this.storage.delete(file.thumb_key);
  }
}

/** Counts bytes, keeps the first few for sniffing, and fails the stream past the limit. */
class Meter extends Transform {
  bytes = 0;
  head = Buffer.alloc(0);
  tooLarge = false;

  constructor(private readonly max: number) {
    super({ highWaterMark: 1024 * 1024 });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.head.length < SNIFF_BYTES) this.head = Buffer.concat([this.head, chunk.subarray(0, SNIFF_BYTES - this.head.length)]);
    if (this.bytes > this.max) {
      this.tooLarge = true;
      return done(new FileTooLarge());
    }
    done(null, chunk);
  }
}

/** `source` through `through`, errors of either ending the result (what a reader of the result needs). */
function pipe(source: Readable, through: Transform): Transform {
  pipeline(source, through).catch(() => {}); // the error surfaces on `through`, where the reader is
  return through;
}

/** Skips `skip` bytes, then passes `length` bytes and ends. */
function slice(skip: number, length: number): Transform {
  let toSkip = skip;
  let left = length;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (toSkip >= chunk.length) {
        toSkip -= chunk.length;
        return done();
      }
      const part = chunk.subarray(toSkip, toSkip + left);
      toSkip = 0;
      left -= part.length;
      done(null, part.length ? part : undefined);
    },
  });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}
