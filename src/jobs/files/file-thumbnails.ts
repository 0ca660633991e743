import { Inject, Injectable, Logger } from '@nestjs/common';
import sharp, { type OutputInfo } from 'sharp';
import { pipeline } from 'node:stream/promises';
import { CONFIG, type Config } from '../../config/config.js';
import { KeyServiceUnavailable } from '../../crypto/key-provider.js';
import { EventStore } from '../../event-store/event-store.js';
import { FileAccessDenied, FileBytes } from './file-bytes.js';
import { type FileRow, FilesRepository } from './files.repository.js';

/** Slack's thumb_360: the longer side at most 360 px, never enlarged. */
export const THUMB_SIZE = 360;

/** The thumb_360 fields of a file object or a message's file entry (none before the thumbnail is made). */
export function thumbFields(base: string, file: Pick<FileRow, 'id' | 'thumb_key' | 'thumb_width' | 'thumb_height'>) {
  if (!file.thumb_key) return {};
  return { thumb_360: `${base}/files-pri/${file.id}/thumb_360.png`, thumb_360_w: file.thumb_width, thumb_360_h: file.thumb_height };
}

/** A row that changed under the job (sealed by the EKM encrypt run) is read and made again, at most this often. */
const ATTEMPTS = 3;

/**
 * Makes a file's thumbnail (a run of the job path, recorded when an image upload is stored). Only
 * files whose bytes were sniffed as an image; the image is decoded by sharp (libvips), streamed
 * from storage, and the PNG thumbnail stored beside the file (sealed like it in EKM workspaces).
 * A file already shared in a message gets the thumbnail in the message's `files` too, and live
 * clients and apps a `message_changed` (as an unfurl's preview does).
 */
@Injectable()
export class FileThumbnails {
  private readonly log = new Logger('FileThumbnails');

  constructor(
    private readonly files: FilesRepository,
    private readonly bytes: FileBytes,
    private readonly events: EventStore,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  /** 'made', or why not ('gone', 'not_image', 'denied', 'undecodable'); repeatable (a retry overwrites the same key). */
  async make(fileId: string): Promise<'made' | 'gone' | 'not_image' | 'denied' | 'undecodable'> {
    for (let attempt = 1; ; attempt++) {
      const file = await this.files.find(fileId);
      if (!file || (file.state !== 'uploaded' && file.state !== 'complete')) return 'gone';
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
        if (err instanceof KeyServiceUnavailable) throw err; // the run is retried
        // Bytes that start like an image but do not decode: no thumbnail, and no retry will change that.
        this.log.warn(`no thumbnail for ${file.id}: ${(err as Error).message}`);
        return 'undecodable';
      }
      const key = `${file.storage_key}.thumb_${THUMB_SIZE}.png`;
      await this.bytes.storeThumbnail(file, key, png.data);
      if (await this.files.setThumbnail(file, key, png.info.width, png.info.height)) {
        await this.showInMessage(file.id);
        return 'made';
      }
      // Gone, or sealed by the EKM encrypt run meanwhile: this one (in clear, or under the old key) must not stay.
      await this.bytes.storage.delete(key);
      if (attempt >= ATTEMPTS) throw new Error(`file ${file.id} kept changing while its thumbnail was made`);
    }
  }

  /**
   * Adds the thumbnail to the entry of the message that shares the file, if it was shared before
   * the thumbnail was made (a completion after it copies the row, thumbnail included). The channel
   * is locked first, as a completion does, and the row read under it: no lock-order deadlock.
   */
  private async showInMessage(fileId: string): Promise<void> {
    await this.events.transaction(async (tx) => {
      const shared = await this.files.find(fileId, tx.db);
      if (!shared?.channel_id || !shared.message_ts) return;
      if (!(await tx.lockChannel(shared.channel_id))) return;
      const file = await this.files.find(fileId, tx.db);
      if (!file || file.state !== 'complete' || !file.thumb_key || !file.message_ts) return;
      const entries = await this.files.messageFiles(tx.db, shared.channel_id, file.message_ts);
      const entry = entries?.find((e) => e.id === file.id);
      if (!entries || !entry || entry.mode === 'tombstone' || entry.thumb_360) return;
      const thumb = thumbFields(this.config.PUBLIC_URL, file);
      await this.files.setMessageFiles(
        tx.db,
        shared.channel_id,
        file.message_ts,
        entries.map((e) => (e === entry ? { ...e, ...thumb } : e)),
      );
      await tx.append(shared.channel_id, 'message_changed', file.user_id, { message_ts: Number(file.message_ts) });
    });
  }
}
