import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../../db/database.module.js';
import type { Queryable } from '../../db/database.js';
import type { MessageAttachment } from '../../domain/message.js';

/** What the unfurler needs of a posted message. */
export interface UnfurlTarget {
  workspace_id: string;
  ts: string;
  user_id: string;
  text: string | null;
  deleted: boolean;
  attachments: MessageAttachment[] | null;
  /** The workspace uses EKM (or the body is sealed): a preview would store the linked page's text in clear. */
  encrypted: boolean;
}

@Injectable()
export class UnfurlRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  /** The message posted at (channel, seq); inside the append transaction, call it after lockChannel. */
  async find(channel: string, seq: number, db: Queryable = this.pool): Promise<UnfurlTarget | undefined> {
    const { rows } = await db.query<UnfurlTarget>(
      `SELECT c.workspace_id, m.ts, m.user_id, m.text, m.deleted, m.attachments,
              (m.body_enc IS NOT NULL OR EXISTS (SELECT 1 FROM ekm_workspaces w WHERE w.workspace_id = c.workspace_id)) AS encrypted
         FROM messages m JOIN channels c ON c.id = m.channel_id
        WHERE m.channel_id = $1 AND m.seq = $2`,
      [channel, seq],
    );
    return rows[0];
  }

  /** null: the message has no preview (left). */
  async storeAttachments(db: Queryable, channel: string, seq: number, attachments: MessageAttachment[] | null): Promise<void> {
    await db.query('UPDATE messages SET attachments = $3 WHERE channel_id = $1 AND seq = $2', [
      channel,
      seq,
      attachments && JSON.stringify(attachments),
    ]);
  }
}
