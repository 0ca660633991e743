import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { BodyCipher, rethrowEkmRequired, withEkmRetry } from '../../crypto/body-cipher.js';
import { CONFIG, type Config } from '../../config/config.js';
import { inTransaction, type Queryable } from '../../db/database.js';
import { channelPolicy } from '../../domain/channel-policy.js';
import { SlackError } from '../../domain/slack-error.js';
import { formatTs, requireTs } from '../../domain/ts.js';
import { EventStore } from '../../event-store/event-store.js';
import { FileAccessDenied, FileBytes, FileTooLarge } from '../../jobs/files/file-bytes.js';
import { type FileMeta, FilesEkm, openMeta, sealMeta } from '../../jobs/files/files-ekm.js';
import { type FileRow, FilesRepository } from '../../jobs/files/files.repository.js';
import { JobRunsRepository } from '../../jobs/runs/job-runs.repository.js';
import type { ByteRange } from '../../storage/file-storage.js';
import type { Caller } from '../../workspaces/workspaces.service.js';
import { ChannelsRepository } from '../channels.repository.js';
import { pageSize } from '../slack-args.js';
import { toFileObject, toMessageFile, typeFromName } from './file-object.js';
import { FilesQueryRepository, KNOWN_TYPES } from './files-query.repository.js';
import type { CompleteFile, CompleteUploadArgs, GetUploadUrlArgs, ListFilesArgs } from './files.dto.js';

const UPLOAD_URL_TTL_SECONDS = 3600;
const FILE_ID = /^F[0-9A-Z]{10}$/;
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const newFileId = () => 'F' + [...randomBytes(10)].map((b) => ALPHABET[b & 31]).join('');
const sha256 = (s: string) => createHash('sha256').update(s).digest();

/** What a download needs: the file, its name, and its bytes (a range of them). */
export interface Download {
  file: FileRow;
  name: string;
  size: number;
  stream: Readable;
  range?: ByteRange;
}

/**
 * Files the Slack way: an upload URL per file (files.getUploadURLExternal), the bytes sent there
 * (streamed through the app into storage, or PUT straight to the bucket), then
 * files.completeUploadExternal shares them in a message. Every method checks who may see the file
 * first: its uploader, or whoever may read the channel it was shared in; anyone else, in any
 * workspace, is told `file_not_found`.
 */
@Injectable()
export class FilesService {
  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly files: FilesRepository,
    private readonly query: FilesQueryRepository,
    private readonly bytes: FileBytes,
    private readonly channels: ChannelsRepository,
    private readonly events: EventStore,
    private readonly cipher: BodyCipher,
    private readonly runs: JobRunsRepository,
    private readonly filesEkm: FilesEkm,
  ) {}

  /** `origin`: where the caller reached us, so the upload URL works from there (the official client POSTs to it). */
  async getUploadURL(caller: Caller, args: GetUploadUrlArgs, origin: string) {
    if (args.length > this.config.FILES_MAX_BYTES) throw new SlackError('file_too_large');
    const id = newFileId();
    const secret = randomBytes(24).toString('base64url');
    const { filetype, mimetype } = typeFromName(args.filename);
    const insert = async (fresh: boolean) => {
      const ekm = fresh || (await this.cipher.settings(caller.workspace)) ? await this.bytes.newKey(caller.workspace) : undefined;
      // Presigned: the bytes go to the bucket without passing through us; never for sealed files.
      // Marked in the insert, so an EKM enable from now on finds it (and drops it).
      const presigned = args.upload_method === 'PUT' && !ekm && this.bytes.storage.kind === 's3';
      return this.files
        .insert({
          id,
          workspace: caller.workspace,
          user: caller.user.id,
          uploadSecret: sha256(secret),
          name: ekm ? null : args.filename,
          title: null,
          metaEnc: ekm ? sealMeta(ekm.key, id, { name: args.filename, title: '' }) : null,
          declaredSize: args.length,
          mimetype,
          filetype,
          storageKey: `${caller.workspace}/${id}`,
          presigned,
          wrapped: ekm?.wrapped,
        })
        .catch(rethrowEkmRequired);
    };
    const file = await withEkmRetry(insert);
    const presigned = file.presigned
      ? await this.bytes.storage.presignPut(file.storage_key, args.length, UPLOAD_URL_TTL_SECONDS)
      : undefined;
    return { upload_url: presigned ?? `${origin}/files/upload/${id}?k=${secret}`, file_id: id };
  }

  /** The bytes sent to an upload URL; FileTooLarge past FILES_MAX_BYTES; `file_not_found` for a bad URL. */
  async acceptUpload(id: string, secret: string, body: Readable): Promise<number> {
    const file = FILE_ID.test(id) && secret ? await this.files.findForUpload(id, sha256(secret)) : undefined;
    if (!file) throw new SlackError('file_not_found', 404);
    const stored = await this.bytes.store(file, body, this.config.FILES_MAX_BYTES);
    const moved = (await this.recordUpload(file, stored.size, stored.imageType)) || (await this.sealLateUpload(file, stored));
    if (!moved) {
      // Another upload to the same URL won, or the sweep took the file meanwhile: ours is not kept.
      await this.bytes.storage.delete(file.storage_key);
      throw new SlackError('file_not_found', 404);
    }
    return stored.size;
  }

  /**
   * The EKM encrypt run sealed a pending file while its bytes streamed in clear (the upload could
   * not record them): they are sealed under the row's new key and recorded, the clear copy removed.
   */
  private async sealLateUpload(file: FileRow, stored: { size: number; imageType: FileRow['image_type'] }): Promise<boolean> {
    const current = await this.files.find(file.id);
    if (file.encrypted || current?.state !== 'pending' || !current.encrypted) return false;
    await this.bytes.store(current, await this.bytes.storage.read(file.storage_key), this.config.FILES_MAX_BYTES);
    await this.bytes.storage.delete(file.storage_key);
    return this.recordUpload(current, stored.size, stored.imageType);
  }

  /** pending -> uploaded, and (an image) its thumbnail run, in one transaction. */
  private recordUpload(file: FileRow, size: number, imageType: FileRow['image_type']): Promise<boolean> {
    return inTransaction(this.files.pool, async (tx) => {
      if (!(await this.files.markUploaded(tx, file, size, imageType))) return false;
      if (imageType) await this.runs.create(tx, 'files-thumbnail', file.workspace_id, { file: file.id });
      return true;
    });
  }

  async complete(caller: Caller, args: CompleteUploadArgs) {
    const entries = parseCompleteFiles(args.files);
    return withEkmRetry(async (fresh) => {
      // Retried: uploaded before the workspace turned EKM on and not sealed yet by its encrypt run,
      // the database refused the name in clear, so the files are sealed now and completed again.
      if (fresh) {
        for (const e of entries) {
          const file = await this.files.find(e.id);
          const mine = file?.workspace_id === caller.workspace && file.user_id === caller.user.id;
          if (mine && file.state === 'uploaded' && !file.encrypted) await this.filesEkm.sealOne(file);
        }
      }
      return this.completeOnce(caller, args, entries);
    });
  }

  private async completeOnce(caller: Caller, args: CompleteUploadArgs, entries: CompleteFile[]) {
    const channel = args.channel_id ?? args.channels?.split(',')[0]?.trim();
    if (args.channels && args.channels.split(',').length > 1) throw new SlackError('invalid_arguments');
    const threadTs = args.thread_ts === undefined ? null : requireTs(args.thread_ts, 'thread_not_found');
    // Checked before anything is written: every file is the caller's and has its bytes.
    const rows: FileRow[] = [];
    for (const e of entries) rows.push(await this.uploadedFile(caller, e.id));
    const metas = await Promise.all(rows.map((f, i) => this.meta(f, entries[i].title)));
    const base = this.config.PUBLIC_URL;
    if (!channel) {
      const done = await inTransaction(this.files.pool, async (tx) => {
        const out = [];
        for (const [i, f] of rows.entries()) out.push(await this.finish(tx, f, null, metas[i]));
        return out;
      });
      return { files: done.map((f, i) => toFileObject(base, f, metas[i])) };
    }
    const sealer = await this.cipher.sealer(caller.workspace, channel, true);
    const text = args.initial_comment ?? '';
    const result = await this.events.transaction(async (tx) => {
      const posted = await this.query.postMessage(tx.db, {
        workspace: caller.workspace,
        channel,
        user: caller.user.id,
        text: sealer ? null : text,
        threadTs,
        bodyEnc: sealer ? Buffer.alloc(0) : null,
        dataKeyId: sealer?.dataKeyId ?? null,
      });
      if (posted.error) throw new SlackError(posted.error);
      if (sealer)
        await this.query.storeSealedBody(tx.db, channel, posted.seq, sealer.seal(text, { seq: posted.seq, user: caller.user.id }));
      tx.appended.push({ channel, seq: Number(posted.seq) });
      const done = [];
      for (const [i, f] of rows.entries()) done.push(await this.finish(tx.db, f, { channel, ts: posted.ts }, metas[i]));
      await this.files.setMessageFiles(
        tx.db,
        channel,
        posted.ts,
        done.map((f, i) => toMessageFile(base, f, metas[i])),
      );
      // Slack's file_shared, one per file, right after the message (Events API consumers read these).
      await tx.appendMany(
        channel,
        'file_shared',
        caller.user.id,
        done.map((f) => ({ file_id: f.id })),
      );
      return { done, ts: posted.ts };
    });
    const head = await this.channels.find(caller.workspace, channel, caller.user.id);
    return {
      files: result.done.map((f, i) => toFileObject(base, f, metas[i], head?.is_private)),
      channel,
      ts: formatTs(result.ts),
    };
  }

  /** Marks one file complete (locked: a concurrent completion or deletion of it refuses this one). */
  private async finish(db: Queryable, f: FileRow, share: { channel: string; ts: string } | null, meta: FileMeta) {
    const current = await this.files.lock(db, f.id);
    if (!current || current.state !== 'uploaded') throw new SlackError('file_not_found');
    // The locked row, not the one read before: the EKM encrypt run may have sealed the file meanwhile.
    const metaEnc = current.encrypted ? sealMeta(await this.bytes.key(current), current.id, meta) : null;
    return this.files.markComplete(db, f.id, share, { title: current.encrypted ? null : meta.title, metaEnc }).catch(rethrowEkmRequired);
  }

  /** The caller's own file with its bytes stored (a presigned PUT is checked in the bucket here). */
  private async uploadedFile(caller: Caller, id: string): Promise<FileRow> {
    let file = FILE_ID.test(id) ? await this.files.find(id) : undefined;
    if (!file || file.workspace_id !== caller.workspace || file.user_id !== caller.user.id) throw new SlackError('file_not_found');
    if (file.state === 'pending' && !file.encrypted) {
      const found = await this.bytes.inspect(file);
      if (found && found.size <= this.config.FILES_MAX_BYTES) {
        await this.recordUpload(file, found.size, found.imageType);
        file = (await this.files.find(id))!;
      } else if (found) {
        await this.bytes.storage.delete(file.storage_key);
        throw new SlackError('file_too_large');
      }
    }
    // Granted before the workspace turned EKM on: its bytes went to the bucket in clear (ask for a new URL).
    if (file.state === 'invalidated') throw new SlackError('upload_invalidated');
    if (file.state !== 'uploaded') throw new SlackError('file_not_found');
    return file;
  }

  /** Name and title (opened for EKM files); the title completeUploadExternal gives wins. */
  private async meta(file: FileRow, title?: string): Promise<FileMeta> {
    const current = await this.openMeta(file);
    if (!current) throw new SlackError('ekm_access_denied');
    return { name: current.name, title: title ?? (current.title || current.name) };
  }

  /**
   * The file's name and title; undefined when access is denied (revoked, the key refused) or the box
   * does not open (tampered). A key service that fails throws KeyServiceUnavailable (`ekm_unavailable`,
   * 503): a retry may succeed, so it is never shown as a revoked key.
   */
  private async openMeta(file: FileRow): Promise<FileMeta | undefined> {
    if (!file.encrypted) return { name: file.name ?? '', title: file.title ?? '' };
    let key: Buffer;
    try {
      key = await this.bytes.key(file);
    } catch (err) {
      if (err instanceof FileAccessDenied) return undefined;
      throw err;
    }
    try {
      return openMeta(key, file.id, file.meta_enc!);
    } catch {
      return undefined;
    }
  }

  /** A file the caller may see, else `file_not_found` (whatever the reason: the file's existence is not told). */
  private async visibleFile(caller: Caller, id: string): Promise<{ file: FileRow; isPrivate?: boolean }> {
    const file = FILE_ID.test(id) ? await this.files.find(id) : undefined;
    if (!file || file.workspace_id !== caller.workspace || file.state === 'deleted') throw new SlackError('file_not_found');
    if (file.user_id === caller.user.id) {
      const head = file.channel_id ? await this.channels.find(caller.workspace, file.channel_id, caller.user.id) : undefined;
      return { file, isPrivate: head?.is_private };
    }
    if (file.state !== 'complete' || !file.channel_id) throw new SlackError('file_not_found');
    const head = await this.channels.find(caller.workspace, file.channel_id, caller.user.id);
    const decision = channelPolicy('read', { head, caller: caller.user, member: head?.is_member ?? false });
    if (!decision.allowed) throw new SlackError('file_not_found');
    return { file, isPrivate: head?.is_private };
  }

  async info(caller: Caller, id: string) {
    const { file, isPrivate } = await this.visibleFile(caller, id);
    const meta = await this.openMeta(file);
    if (!meta) throw new SlackError('ekm_access_denied');
    return { file: toFileObject(this.config.PUBLIC_URL, file, meta, isPrivate), comments: [], response_metadata: { next_cursor: '' } };
  }

  async list(caller: Caller, args: ListFilesArgs) {
    const types = (args.types ?? 'all').split(',').map((t) => t.trim());
    if (types.some((t) => !KNOWN_TYPES.has(t))) throw new SlackError('invalid_arguments');
    const count = pageSize(args.count, 100, 1000);
    const page = args.page ?? 1;
    const { rows, total } = await this.query.visible(
      caller.workspace,
      caller.user.id,
      { channel: args.channel, user: args.user, types: types.includes('all') ? [] : types },
      count,
      (page - 1) * count,
    );
    return { files: await this.objects(rows), paging: { count, total, page, pages: Math.max(1, Math.ceil(total / count)) } };
  }

  /**
   * The files the caller may see whose name or title contains `query` (case-insensitive), newest
   * first: for search.files / search.all. Files of EKM workspaces keep no name in clear, so they
   * never match.
   */
  async searchByName(caller: Caller, query: string, paging: { count?: number; page?: number } = {}) {
    const count = pageSize(paging.count, 20, 100);
    const page = Math.max(1, paging.page ?? 1);
    const { rows, total } = await this.query.visible(caller.workspace, caller.user.id, { nameLike: query }, count, (page - 1) * count);
    return { matches: await this.objects(rows), total, paging: { count, total, page, pages: Math.max(1, Math.ceil(total / count)) } };
  }

  private async objects(rows: FileRow[]) {
    return Promise.all(rows.map(async (f) => toFileObject(this.config.PUBLIC_URL, f, await this.openMeta(f))));
  }

  /**
   * The uploader or a workspace admin. The file's message shows a tombstone in its place (a
   * `message_changed` tells live clients), the row is marked deleted in the same transaction, and
   * the bytes are removed from storage right after (the files sweep retries what a crash left).
   */
  async delete(caller: Caller, id: string) {
    const { file } = await this.visibleFile(caller, id);
    if (file.user_id !== caller.user.id && caller.user.role !== 'admin') throw new SlackError('cant_delete_file');
    const deleted = await this.events.transaction(async (tx) => {
      if (file.channel_id && file.message_ts) {
        await tx.lockChannel(file.channel_id, caller.workspace);
        const entries = await this.files.messageFiles(tx.db, file.channel_id, file.message_ts);
        if (entries) {
          await this.files.setMessageFiles(
            tx.db,
            file.channel_id,
            file.message_ts,
            entries.map((e) => (e.id === file.id ? { id: file.id, mode: 'tombstone' } : e)),
          );
          await tx.append(file.channel_id, 'message_changed', caller.user.id, { message_ts: Number(file.message_ts) });
        }
      }
      return this.files.markDeleted(tx.db, [file.id]);
    });
    if (!deleted.length) throw new SlackError('file_not_found');
    await this.bytes.remove(deleted[0]);
    await this.files.remove(file.id, 'deleted');
    return {};
  }

  /** The bytes of a file the caller may see: the file itself, a range of it, or its thumbnail. */
  async download(caller: Caller, id: string, variant: 'file' | 'thumb', range?: (size: number) => ByteRange | 'unsatisfiable' | undefined) {
    const { file } = await this.visibleFile(caller, id);
    const meta = await this.openMeta(file);
    if (!meta) throw new SlackError('ekm_access_denied', 403);
    if (variant === 'thumb') {
      if (!file.thumb_key) throw new SlackError('file_not_found', 404);
      return { file, name: 'thumb_360.png', size: undefined, stream: await this.bytes.openThumbnail(file) };
    }
    const size = Number(file.size);
    const wanted = range?.(size);
    if (wanted === 'unsatisfiable') return { file, name: meta.name, size, unsatisfiable: true as const };
    return { file, name: meta.name, size, range: wanted, stream: await this.bytes.open(file, wanted) };
  }
}

function parseCompleteFiles(value: unknown): CompleteFile[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > 10) throw new SlackError('invalid_arguments');
  const ids = new Set<string>();
  return value.map((e) => {
    if (!e || typeof e !== 'object' || typeof e.id !== 'string' || (e.title !== undefined && typeof e.title !== 'string'))
      throw new SlackError('invalid_arguments');
    if (ids.has(e.id) || (e.title && e.title.length > 255)) throw new SlackError('invalid_arguments');
    ids.add(e.id);
    return { id: e.id, title: e.title };
  });
}

export { FileTooLarge };
