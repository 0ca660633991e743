import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../../db/database.module.js';
import type { Queryable } from '../../db/database.js';

/** `invalidated`: a presigned upload its workspace's EKM enable dropped (see migrations/1795692400000_...). */
export type FileState = 'pending' | 'uploaded' | 'complete' | 'deleted' | 'invalidated';
export type ImageType = 'png' | 'jpeg' | 'gif' | 'webp';

/** A row of `files` (see migrations/1795691000000_files.sql). */
export interface FileRow {
  id: string;
  workspace_id: string;
  user_id: string;
  state: FileState;
  name: string | null;
  title: string | null;
  meta_enc: Buffer | null;
  declared_size: string;
  size: string | null;
  mimetype: string;
  filetype: string;
  image_type: ImageType | null;
  storage_key: string;
  encrypted: boolean;
  /** It was handed a presigned PUT URL: its bytes reach the bucket in clear, without us. */
  presigned: boolean;
  wrapped_key: Buffer | null;
  key_version: number | null;
  key_ref: string | null;
  channel_id: string | null;
  message_ts: string | null;
  thumb_key: string | null;
  thumb_width: number | null;
  thumb_height: number | null;
  created_at: Date;
  completed_at: Date | null;
}

export interface NewFile {
  id: string;
  workspace: string;
  user: string;
  uploadSecret: Buffer;
  name: string | null;
  title: string | null;
  metaEnc: Buffer | null;
  declaredSize: number;
  mimetype: string;
  filetype: string;
  storageKey: string;
  presigned?: boolean;
  wrapped?: { key: Buffer; version: number; ref: string };
}

/** The files table: every query about file rows, for the api's use cases and the file jobs. */
@Injectable()
export class FilesRepository {
  constructor(@Inject(PG_POOL) readonly pool: pg.Pool) {}

  async insert(f: NewFile): Promise<FileRow> {
    const { rows } = await this.pool.query<FileRow>(
      `INSERT INTO files (id, workspace_id, user_id, upload_secret, name, title, meta_enc, declared_size, mimetype, filetype,
                          storage_key, encrypted, wrapped_key, key_version, key_ref, presigned)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING *`,
      [
        f.id,
        f.workspace,
        f.user,
        f.uploadSecret,
        f.name,
        f.title,
        f.metaEnc,
        f.declaredSize,
        f.mimetype,
        f.filetype,
        f.storageKey,
        !!f.wrapped,
        f.wrapped?.key ?? null,
        f.wrapped?.version ?? null,
        f.wrapped?.ref ?? null,
        !!f.presigned,
      ],
    );
    return rows[0];
  }

  async find(id: string, db: Queryable = this.pool): Promise<FileRow | undefined> {
    const { rows } = await db.query<FileRow>('SELECT * FROM files WHERE id = $1', [id]);
    return rows[0];
  }

  /** The row locked until the transaction ends (completion, deletion, the sweep). */
  async lock(db: Queryable, id: string): Promise<FileRow | undefined> {
    const { rows } = await db.query<FileRow>('SELECT * FROM files WHERE id = $1 FOR UPDATE', [id]);
    return rows[0];
  }

  /** The file whose upload URL carries this secret (its sha-256), while it still takes bytes. */
  async findForUpload(id: string, secretHash: Buffer): Promise<FileRow | undefined> {
    const { rows } = await this.pool.query<FileRow>(`SELECT * FROM files WHERE id = $1 AND upload_secret = $2 AND state = 'pending'`, [
      id,
      secretHash,
    ]);
    return rows[0];
  }

  /**
   * Bytes are stored under `file.storage_key`, sealed or not as `file` was: only a pending file
   * still so moves (a second upload to the same URL loses; so does an upload the EKM encrypt run
   * sealed the row under, whose bytes are in clear under the old key).
   */
  async markUploaded(
    db: Queryable,
    file: Pick<FileRow, 'id' | 'storage_key' | 'encrypted'>,
    size: number,
    imageType: string | null,
  ): Promise<boolean> {
    const { rowCount } = await db.query(
      `UPDATE files SET state = 'uploaded', size = $2, image_type = $3
        WHERE id = $1 AND state = 'pending' AND storage_key = $4 AND encrypted = $5`,
      [file.id, size, imageType, file.storage_key, file.encrypted],
    );
    return rowCount === 1;
  }

  async markComplete(
    db: Queryable,
    id: string,
    share: { channel: string; ts: string } | null,
    meta: { title: string | null; metaEnc: Buffer | null },
  ): Promise<FileRow> {
    const { rows } = await db.query<FileRow>(
      `UPDATE files SET state = 'complete', completed_at = now(), channel_id = $2, message_ts = $3,
              title = $4, meta_enc = coalesce($5, meta_enc)
        WHERE id = $1 RETURNING *`,
      [id, share?.channel ?? null, share?.ts ?? null, meta.title, meta.metaEnc],
    );
    return rows[0];
  }

  async markDeleted(db: Queryable, ids: string[]): Promise<FileRow[]> {
    if (!ids.length) return [];
    const { rows } = await db.query<FileRow>(`UPDATE files SET state = 'deleted' WHERE id = ANY($1) AND state <> 'deleted' RETURNING *`, [
      ids,
    ]);
    return rows;
  }

  /** Files shared by the given messages of a channel (retention deletes them with the messages). */
  async sharedBy(db: Queryable, channel: string, messageTs: string[]): Promise<string[]> {
    if (!messageTs.length) return [];
    const { rows } = await db.query<{ id: string }>('SELECT id FROM files WHERE channel_id = $1 AND message_ts = ANY($2::bigint[])', [
      channel,
      messageTs,
    ]);
    return rows.map((r) => r.id);
  }

  /**
   * Records a thumbnail made from `file` as read: refused when the row changed meanwhile (the EKM
   * encrypt run sealed it: a thumbnail made in clear must not be recorded on a sealed file).
   */
  async setThumbnail(
    file: Pick<FileRow, 'id' | 'storage_key' | 'encrypted'>,
    key: string,
    width: number,
    height: number,
  ): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE files SET thumb_key = $2, thumb_width = $3, thumb_height = $4
        WHERE id = $1 AND state IN ('uploaded', 'complete') AND storage_key = $5 AND encrypted = $6`,
      [file.id, key, width, height, file.storage_key, file.encrypted],
    );
    return rowCount === 1;
  }

  /** Rows whose bytes must go: deleted ones, and uploads never completed within `ttlMs`. */
  async sweepable(ttlMs: number, limit: number, now = new Date()): Promise<FileRow[]> {
    const { rows } = await this.pool.query<FileRow>(
      `SELECT * FROM files WHERE state = 'deleted' OR (state IN ('pending', 'uploaded', 'invalidated') AND created_at < $1::timestamptz - make_interval(secs => $2::float8 / 1000))
        ORDER BY created_at LIMIT $3`,
      [now, ttlMs, limit],
    );
    return rows;
  }

  /** Forgets a row whose bytes are gone; only in the state the sweep saw (a completion in between wins). */
  async remove(id: string, state: FileState): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM files WHERE id = $1 AND state = $2', [id, state]);
    return rowCount === 1;
  }

  /**
   * The workspace turned EKM on: its pending presigned uploads are dropped (their bytes would reach
   * the bucket in clear); returns them, so their objects can go.
   */
  async invalidatePresigned(workspace: string): Promise<FileRow[]> {
    const { rows } = await this.pool.query<FileRow>(
      `UPDATE files SET state = 'invalidated' WHERE workspace_id = $1 AND state = 'pending' AND presigned AND NOT encrypted RETURNING *`,
      [workspace],
    );
    return rows;
  }

  /** Plaintext files of a workspace that turned EKM on, for its encryption run. */
  async plaintext(workspace: string, limit: number): Promise<FileRow[]> {
    const { rows } = await this.pool.query<FileRow>(
      `SELECT * FROM files WHERE workspace_id = $1 AND NOT encrypted AND state IN ('pending', 'uploaded', 'complete') ORDER BY id LIMIT $2`,
      [workspace, limit],
    );
    return rows;
  }

  /** After sealing a plaintext file: its new bytes, key and metadata (names gone from the row and its message). */
  async storeSealed(
    db: Queryable,
    id: string,
    s: { storageKey: string; thumbKey: string | null; wrapped: Buffer; version: number; ref: string; metaEnc: Buffer },
  ): Promise<void> {
    await db.query(
      `UPDATE files SET encrypted = true, storage_key = $2, thumb_key = $3, wrapped_key = $4, key_version = $5, key_ref = $6,
              meta_enc = $7, name = NULL, title = NULL WHERE id = $1`,
      [id, s.storageKey, s.thumbKey, s.wrapped, s.version, s.ref, s.metaEnc],
    );
  }

  async staleKeys(workspace: string, version: number, limit: number): Promise<FileRow[]> {
    const { rows } = await this.pool.query<FileRow>(
      'SELECT * FROM files WHERE workspace_id = $1 AND wrapped_key IS NOT NULL AND key_version < $2 ORDER BY id LIMIT $3',
      [workspace, version, limit],
    );
    return rows;
  }

  async rewrap(id: string, wrapped: Buffer, version: number, ref: string): Promise<void> {
    await this.pool.query('UPDATE files SET wrapped_key = $2, key_version = $3, key_ref = $4 WHERE id = $1', [id, wrapped, version, ref]);
  }

  /** A message's `files` as stored on its row (what history and the stream show). */
  async setMessageFiles(db: Queryable, channel: string, ts: string, files: object[] | null): Promise<void> {
    await db.query('UPDATE messages SET files = $3 WHERE channel_id = $1 AND ts = $2', [
      channel,
      ts,
      files === null ? null : JSON.stringify(files),
    ]);
  }

  async messageFiles(db: Queryable, channel: string, ts: string): Promise<Array<Record<string, unknown>> | null> {
    const { rows } = await db.query<{ files: Array<Record<string, unknown>> | null }>(
      'SELECT files FROM messages WHERE channel_id = $1 AND ts = $2',
      [channel, ts],
    );
    return rows[0]?.files ?? null;
  }
}
