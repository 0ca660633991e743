import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

// File bytes of EKM workspaces, sealed as a stream of AES-256-GCM frames so neither direction ever
// holds a whole file: frame = 12-byte IV | ciphertext | 16-byte tag, over CHUNK bytes of plaintext
// each, except the last, which is shorter (possibly empty). The additional data of frame i is
// `<aad>:<i>:<last?>`, so frames cannot be reordered, dropped, or the file cut at a frame boundary
// without the read failing. Fixed-size frames let a range read start at the frame it needs.

export const FILE_CHUNK = 64 * 1024;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const OVERHEAD = IV_BYTES + TAG_BYTES;
export const FILE_FRAME = FILE_CHUNK + OVERHEAD;

const frameAad = (aad: string, index: number, last: boolean) => Buffer.from(`${aad}:${index}:${last ? 1 : 0}`);

/** Bytes a sealed file of `size` plaintext bytes takes. */
export function sealedSize(size: number): number {
  return Math.floor(size / FILE_CHUNK) * FILE_FRAME + (size % FILE_CHUNK) + OVERHEAD;
}

/** Seals a plaintext stream under `key`, bound to `aad` (the file it belongs to). */
export function sealFileStream(key: Buffer, aad: string): Transform {
  let pending: Buffer = Buffer.alloc(0);
  let index = 0;
  const frame = (plain: Buffer, last: boolean) => {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(frameAad(aad, index++, last));
    return Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  };
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      const out: Buffer[] = [];
      // A full chunk is never the last frame: the last one is always shorter (so it can be told apart).
      let at = 0;
      while (pending.length - at > FILE_CHUNK) {
        out.push(frame(pending.subarray(at, at + FILE_CHUNK), false));
        at += FILE_CHUNK;
      }
      if (pending.length - at === FILE_CHUNK) {
        out.push(frame(pending.subarray(at, at + FILE_CHUNK), false));
        at += FILE_CHUNK;
      }
      pending = Buffer.from(pending.subarray(at));
      done(null, out.length ? Buffer.concat(out) : undefined);
    },
    flush(done: TransformCallback) {
      done(null, frame(pending, true));
    },
  });
}

export interface OpenOptions {
  /** The index of the first frame in the input (a range read starts mid-file). */
  firstFrame?: number;
  /** False when the input stops before the file's last frame (a range read): every frame is then a full one. */
  toEnd?: boolean;
}

/** Opens a sealed stream; errors (and emits nothing more) at the first frame that fails authentication. */
export function openFileStream(key: Buffer, aad: string, opts: OpenOptions = {}): Transform {
  let pending: Buffer = Buffer.alloc(0);
  let index = opts.firstFrame ?? 0;
  const toEnd = opts.toEnd ?? true;
  const open = (frame: Buffer, last: boolean) => {
    if (frame.length < OVERHEAD) throw new Error('sealed file is truncated');
    const decipher = createDecipheriv('aes-256-gcm', key, frame.subarray(0, IV_BYTES));
    decipher.setAAD(frameAad(aad, index++, last));
    decipher.setAuthTag(frame.subarray(frame.length - TAG_BYTES));
    return Buffer.concat([decipher.update(frame.subarray(IV_BYTES, frame.length - TAG_BYTES)), decipher.final()]);
  };
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      try {
        pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
        const out: Buffer[] = [];
        let at = 0;
        // With toEnd, a full frame followed by nothing may still be followed by the (empty) last frame.
        while (pending.length - at > FILE_FRAME || (!toEnd && pending.length - at >= FILE_FRAME)) {
          out.push(open(pending.subarray(at, at + FILE_FRAME), false));
          at += FILE_FRAME;
        }
        pending = Buffer.from(pending.subarray(at));
        done(null, out.length ? Buffer.concat(out) : undefined);
      } catch (err) {
        done(err as Error);
      }
    },
    flush(done: TransformCallback) {
      try {
        if (!toEnd) {
          if (pending.length === FILE_FRAME) return done(null, open(pending, false));
          if (pending.length) throw new Error('sealed file is truncated');
          return done();
        }
        if (pending.length === FILE_FRAME) {
          // A full frame at the very end: the file's own last frame is missing.
          throw new Error('sealed file is truncated');
        }
        done(null, open(pending, true));
      } catch (err) {
        done(err as Error);
      }
    },
  });
}

/** Where a plaintext range [start, end] lies in the sealed bytes, and how to cut it out of the opened frames. */
export function sealedRange(start: number, end: number, size: number) {
  const first = Math.floor(start / FILE_CHUNK);
  const lastFrame = Math.floor(end / FILE_CHUNK);
  const total = sealedSize(size);
  const sealedEnd = Math.min((lastFrame + 1) * FILE_FRAME, total) - 1;
  return {
    sealed: { start: first * FILE_FRAME, end: sealedEnd },
    firstFrame: first,
    toEnd: sealedEnd === total - 1,
    skip: start - first * FILE_CHUNK,
    length: end - start + 1,
  };
}
