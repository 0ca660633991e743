import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../../db/database.module.js';
import type { Queryable } from '../../db/database.js';
import type { FileRow } from '../../jobs/files/files.repository.js';
import { readableChannel } from '../channels.repository.js';

export interface FileFilter {
  channel?: string;
  user?: string;
  /** SQL-ready conditions on the file's type (images, pdfs, ...); none: all. */
  types?: string[];
  /** Name or title contains this (case-insensitive); files of EKM workspaces have no name to match. */
  nameLike?: string;
}

// Who may see a file: its uploader, and whoever may read the channel it was shared in (a public
// channel: everyone in the workspace; a private one or a DM: its members), in the file's workspace.
const VISIBLE = `
  f.workspace_id = $1 AND f.state = 'complete'
  AND (f.user_id = $2 OR EXISTS (SELECT 1 FROM channels c WHERE c.id = f.channel_id AND ${readableChannel('c', '$1', '$2')}))`;

const TYPE_SQL: Record<string, string> = {
  images: `(f.image_type IS NOT NULL OR f.mimetype LIKE 'image/%')`,
  pdfs: `f.mimetype = 'application/pdf'`,
  zips: `f.mimetype IN ('application/zip', 'application/x-zip-compressed')`,
  snippets: `f.mimetype LIKE 'text/%'`,
  spaces: 'false',
  gdocs: 'false',
};

/** files.list and the name search: the files a caller may see, newest first. */
@Injectable()
export class FilesQueryRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  async visible(
    workspace: string,
    user: string,
    filter: FileFilter,
    limit: number,
    offset: number,
  ): Promise<{ rows: FileRow[]; total: number }> {
    const params: unknown[] = [workspace, user];
    const where = [VISIBLE];
    if (filter.channel) where.push(`f.channel_id = $${params.push(filter.channel)}`);
    if (filter.user) where.push(`f.user_id = $${params.push(filter.user)}`);
    if (filter.types?.length) where.push(`(${filter.types.map((t) => TYPE_SQL[t]).join(' OR ')})`);
    if (filter.nameLike) {
      const n = params.push(`%${filter.nameLike.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      where.push(`(f.name ILIKE $${n} OR f.title ILIKE $${n})`);
    }
    const sql = `FROM files f WHERE ${where.join(' AND ')}`;
    const [page, count] = await Promise.all([
      this.pool.query<FileRow>(`SELECT f.* ${sql} ORDER BY f.created_at DESC, f.id DESC LIMIT ${limit} OFFSET ${offset}`, params),
      this.pool.query<{ n: number }>(`SELECT count(*)::int AS n ${sql}`, params),
    ]);
    return { rows: page.rows, total: count.rows[0].n };
  }

  /**
   * The message that shares uploaded files: post_message() (every check chat.postMessage makes,
   * under the channel lock), inside the caller's transaction so the files' completion commits with it.
   */
  async postMessage(
    db: Queryable,
    m: {
      workspace: string;
      channel: string;
      user: string;
      text: string | null;
      threadTs: bigint | null;
      bodyEnc: Buffer | null;
      dataKeyId: string | null;
    },
  ): Promise<{ error: string | null; seq: string; ts: string }> {
    const { rows } = await db.query<{ error: string | null; seq: string; ts: string }>(
      'SELECT error, seq, ts FROM post_message($1, $2, $3, $4, $5, false, NULL, $6, $7)',
      [m.workspace, m.channel, m.user, m.text, m.threadTs?.toString() ?? null, m.bodyEnc, m.dataKeyId],
    );
    return rows[0];
  }

  async storeSealedBody(db: Queryable, channel: string, seq: string, bodyEnc: Buffer): Promise<void> {
    await db.query('UPDATE messages SET body_enc = $3 WHERE channel_id = $1 AND seq = $2', [channel, seq, bodyEnc]);
  }
}

export const KNOWN_TYPES = new Set(['all', ...Object.keys(TYPE_SQL)]);
