import { Injectable, Logger } from '@nestjs/common';
import sharp, { type OutputInfo } from 'sharp';
import { pipeline } from 'node:stream/promises';
import { FileAccessDenied, FileBytes } from './file-bytes.js';
import { FilesRepository } from './files.repository.js';

/** Slack's thumb_360: the longer side at most 360 px, never enlarged. */
export const THUMB_SIZE = 360;

/**
 * Makes a file's thumbnail (a run of the job path, recorded when an image upload is stored). Only
 * files whose bytes were sniffed as an image; the image is decoded by sharp (libvips), streamed
 * from storage, and the PNG thumbnail stored beside the file (sealed like it in EKM workspaces).
 */
@Injectable()
export class FileThumbnails {
  private readonly log = new Logger('FileThumbnails');

  constructor(
    private readonly files: FilesRepository,
    private readonly bytes: FileBytes,
  ) {}

  /** 'made', or why not ('gone', 'not_image', 'denied', 'undecodable'); repeatable (a retry overwrites the same key). */
  async make(fileId: string): Promise<'made' | 'gone' | 'not_image' | 'denied' | 'undecodable'> {
    const file = await this.files.find(fileId);
    if (!file || file.state === 'deleted' || file.state === 'pending') return 'gone';
    if (!file.image_type) return 'not_image';
    let png: { data: Buffer; info: OutputInfo };
    try {
      const resize = sharp({ failOn: 'error', limitInputPixels: 100_000_000 })
        .rotate()
        .resize(THUMB_SIZE, THUMB_SIZE, { fit: 'inside', withoutEnlargement: true })
        .png();
      const done = resize.toBuffer({ resolveWithObject: true });
      await pipeline(await this.bytes.open(file), resize);
      png = await done;
    } catch (err) {
      if (err instanceof FileAccessDenied) return 'denied';
      // Bytes that start like an image but do not decode: no thumbnail, and no retry will change that.
      this.log.warn(`no thumbnail for ${file.id}: ${(err as Error).message}`);
      return 'undecodable';
    }
    const key = `${file.storage_key}.thumb_${THUMB_SIZE}.png`;
    await this.bytes.storeThumbnail(file, key, png.data);
    if (!(await this.files.setThumbnail(file.id, key, png.info.width, png.info.height))) await this.bytes.storage.delete(key);
    return 'made';
  }
}
