import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { FILE_CHUNK, FILE_FRAME, openFileStream, sealedRange, sealedSize, sealFileStream } from './file-cipher.js';

const key = randomBytes(32);

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of stream) parts.push(p as Buffer);
  return Buffer.concat(parts);
}
/** Feeds `data` in pieces of `piece` bytes, as a socket would. */
const pieces = (data: Buffer, piece: number) =>
  Readable.from(Array.from({ length: Math.ceil(data.length / piece) || 1 }, (_, i) => data.subarray(i * piece, (i + 1) * piece)));
const seal = (data: Buffer, aad = 'file:F1', piece = 7_777) => collect(pieces(data, piece).pipe(sealFileStream(key, aad)));
const open = (sealed: Buffer, aad = 'file:F1', opts = {}) => collect(pieces(sealed, 9_999).pipe(openFileStream(key, aad, opts)));

describe('file cipher: AES-256-GCM frames', () => {
  it.each([0, 1, FILE_CHUNK - 1, FILE_CHUNK, FILE_CHUNK + 1, 3 * FILE_CHUNK, 3 * FILE_CHUNK + 5])('round-trips %i bytes', async (n) => {
    const data = randomBytes(n);
    const sealed = await seal(data);
    expect(sealed.length).toBe(sealedSize(n));
    expect((await open(sealed)).equals(data)).toBe(true);
  });

  it('refuses another file aad, a flipped bit, a dropped frame, reordered frames and a cut at a frame boundary', async () => {
    const data = randomBytes(3 * FILE_CHUNK + 100);
    const sealed = await seal(data);
    await expect(open(sealed, 'file:F2')).rejects.toThrow();
    const flipped = Buffer.from(sealed);
    flipped[FILE_FRAME + 20] ^= 1;
    await expect(open(flipped)).rejects.toThrow();
    const dropped = Buffer.concat([sealed.subarray(0, FILE_FRAME), sealed.subarray(2 * FILE_FRAME)]);
    await expect(open(dropped)).rejects.toThrow();
    const swapped = Buffer.concat([
      sealed.subarray(FILE_FRAME, 2 * FILE_FRAME),
      sealed.subarray(0, FILE_FRAME),
      sealed.subarray(2 * FILE_FRAME),
    ]);
    await expect(open(swapped)).rejects.toThrow();
    await expect(open(sealed.subarray(0, 3 * FILE_FRAME))).rejects.toThrow('truncated');
  });

  it.each([
    [0, 0],
    [10, FILE_CHUNK + 10],
    [FILE_CHUNK, 2 * FILE_CHUNK - 1],
    [FILE_CHUNK - 3, 3 * FILE_CHUNK + 99],
    [3 * FILE_CHUNK, 3 * FILE_CHUNK + 99],
  ])('opens the plaintext range %i-%i from the frames it needs only', async (start, end) => {
    const data = randomBytes(3 * FILE_CHUNK + 100);
    const sealed = await seal(data);
    const r = sealedRange(start, end, data.length);
    const opened = await open(sealed.subarray(r.sealed.start, r.sealed.end + 1), 'file:F1', { firstFrame: r.firstFrame, toEnd: r.toEnd });
    expect(opened.subarray(r.skip, r.skip + r.length).equals(data.subarray(start, end + 1))).toBe(true);
  });
});
