import { Injectable } from '@nestjs/common';
import { BodyCipher } from '../../crypto/body-cipher.js';
import { open, seal } from '../../crypto/envelope.js';
import { inTransaction } from '../../db/database.js';
import { FileBytes } from './file-bytes.js';
import { type FileRow, FilesRepository } from './files.repository.js';

const BATCH = 50;

export interface FileMeta {
  name: string;
  title: string;
}

const metaAad = (id: string) => `filemeta:${id}`;

/** A message's file entry without the name (its URLs end in the name too: they get the id instead). */
function withoutName(entry: Record<string, unknown>, id: string): Record<string, unknown> {
  const scrub = (url: unknown) => (typeof url === 'string' ? url.replace(/\/[^/]*$/, `/${id}`) : url);
  return {
    ...entry,
    name: '',
    title: '',
    ekm: true,
    url_private: scrub(entry.url_private),
    url_private_download: scrub(entry.url_private_download),
  };
}

export const sealMeta = (key: Buffer, id: string, meta: FileMeta) => seal(key, JSON.stringify(meta), metaAad(id));
export const openMeta = (key: Buffer, id: string, box: Buffer): FileMeta => JSON.parse(open(key, box, metaAad(id)).toString());

/**
 * EKM runs over files (EkmRunner calls these next to its work on bodies): enabling seals every
 * plaintext file (bytes, thumbnail, name and title; its message's file entry loses the name), and
 * a rotation re-wraps every file's data key under the new KEK version (bytes untouched).
 */
@Injectable()
export class FilesEkm {
  constructor(
    private readonly files: FilesRepository,
    private readonly bytes: FileBytes,
    private readonly cipher: BodyCipher,
  ) {}

  /**
   * Seals the workspace's plaintext files; returns how many. First drops its pending presigned
   * uploads: their bytes would reach the bucket in clear after this run (completion refuses them).
   */
  async sealExisting(workspace: string, onBatch?: (n: number) => Promise<void>): Promise<number> {
    for (const dropped of await this.files.invalidatePresigned(workspace)) await this.bytes.remove(dropped);
    let done = 0;
    for (;;) {
      const rows = await this.files.plaintext(workspace, BATCH);
      if (!rows.length) return done;
      let sealed = 0;
      for (const file of rows) if (await this.sealOne(file)) sealed++;
      done += sealed;
      await onBatch?.(sealed);
    }
  }

  /**
   * Seals one file from the row as read (its bytes are copied without a lock: they may be large),
   * then records it under the row's lock only if the row is still that one: an upload, a thumbnail
   * or a completion that landed meanwhile would otherwise be lost or left in clear. A changed row
   * is not sealed here: it is still plaintext, so the next batch reads it again.
   */
  async sealOne(file: FileRow): Promise<boolean> {
    const fresh = await this.bytes.newKey(file.workspace_id);
    if (!fresh) throw new Error('EKM was turned off while sealing files');
    const sealed = await this.bytes.seal(file, fresh.key);
    const stored = await inTransaction(this.files.pool, async (tx) => {
      const current = await this.files.lock(tx, file.id);
      const same = current?.state === file.state && current.storage_key === file.storage_key && current.thumb_key === file.thumb_key;
      if (!current || current.encrypted || !same) return false;
      await this.files.storeSealed(tx, file.id, {
        storageKey: sealed.storageKey,
        thumbKey: sealed.thumbKey,
        wrapped: fresh.wrapped.key,
        version: fresh.wrapped.version,
        ref: fresh.wrapped.ref,
        // The locked row's name and title: a completion may have set the title since the read.
        metaEnc: sealMeta(fresh.key, file.id, { name: current.name ?? '', title: current.title ?? '' }),
      });
      if (current.channel_id && current.message_ts) {
        const entries = await this.files.messageFiles(tx, current.channel_id, current.message_ts);
        if (entries)
          await this.files.setMessageFiles(
            tx,
            current.channel_id,
            current.message_ts,
            entries.map((e) => (e.id === file.id ? withoutName(e, file.id) : e)),
          );
      }
      return true;
    });
    if (stored)
      await this.bytes.remove(file); // the plaintext objects
    else await this.bytes.remove({ storage_key: sealed.storageKey, thumb_key: sealed.thumbKey }); // not recorded: our copies go
    return stored;
  }

  /** Re-wraps file keys older than the workspace's current KEK version; returns how many. */
  async rewrap(workspace: string): Promise<number> {
    const settings = await this.cipher.settings(workspace, true);
    if (!settings) return 0;
    const provider = this.cipher.provider(settings.provider);
    let done = 0;
    for (;;) {
      const stale = await this.files.staleKeys(workspace, settings.key_version, BATCH);
      if (!stale.length) return done;
      for (const file of stale) {
        const plain = await provider.unwrap(workspace, file.key_ref!, file.wrapped_key!);
        await this.files.rewrap(file.id, await provider.wrap(workspace, settings.key_ref, plain), settings.key_version, settings.key_ref);
      }
      done += stale.length;
    }
  }
}
