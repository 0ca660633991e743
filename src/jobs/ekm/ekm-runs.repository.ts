import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import type { DataKeyRow, Revocation } from '../../crypto/ekm.repository.js';
import { PG_POOL } from '../../db/database.module.js';
import type { Queryable } from '../../db/database.js';
import type { RichContent } from '../../domain/message-content.js';

/** What the EKM runs read and write: bodies to seal, data keys to re-wrap, messages a revocation covers. */
@Injectable()
export class EkmRunsRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  async staleDataKeys(workspace: string, version: number, limit: number): Promise<DataKeyRow[]> {
    const { rows } = await this.pool.query<DataKeyRow>(
      'SELECT * FROM data_keys WHERE workspace_id = $1 AND key_version < $2 ORDER BY id LIMIT $3',
      [workspace, version, limit],
    );
    return rows;
  }

  async rewrap(id: string, version: number, keyRef: string, wrapped: Buffer): Promise<void> {
    await this.pool.query('UPDATE data_keys SET key_version = $2, key_ref = $3, wrapped = $4 WHERE id = $1', [
      id,
      version,
      keyRef,
      wrapped,
    ]);
  }

  /**
   * Plaintext bodies of the workspace still to seal, locked for this batch. Found first, then locked
   * channel by channel (SKIP LOCKED: a body a writer holds is sealed by a later batch): a locking read
   * across channels is a multi-shard FOR UPDATE, which Citus refuses.
   */
  async plaintextBodies(db: Queryable, workspace: string, limit: number) {
    type Body = { channel_id: string; seq: string; user_id: string; text: string; rich: RichContent | null };
    const { rows: found } = await db.query<{ channel_id: string; seq: string }>(
      `SELECT m.channel_id, m.seq FROM messages m JOIN channels c ON c.id = m.channel_id
        WHERE c.workspace_id = $1 AND m.text IS NOT NULL AND m.body_enc IS NULL
        ORDER BY m.channel_id, m.seq LIMIT $2`,
      [workspace, limit],
    );
    const byChannel = new Map<string, string[]>();
    for (const r of found) byChannel.set(r.channel_id, [...(byChannel.get(r.channel_id) ?? []), r.seq]);
    const locked: Body[] = [];
    for (const [channel, seqs] of byChannel) {
      const { rows } = await db.query<Body>(
        `SELECT m.channel_id, m.seq, m.user_id, m.text, m.rich FROM messages m
          WHERE m.channel_id = $1 AND m.seq = ANY($2::bigint[]) AND m.text IS NOT NULL AND m.body_enc IS NULL
          ORDER BY m.seq FOR UPDATE SKIP LOCKED`,
        [channel, seqs],
      );
      locked.push(...rows);
    }
    return locked;
  }

  /** Replaces plaintext bodies with sealed ones, one statement per batch. */
  async storeSealed(db: Queryable, bodies: Array<{ channel: string; seq: string; bodyEnc: Buffer; dataKeyId: string }>): Promise<void> {
    // Link previews quote the page a message linked to; they go with the plaintext. Blocks and
    // attachments the poster sent are sealed with the text (packBody).
    await db.query(
      `UPDATE messages m SET text = NULL, attachments = NULL, rich = NULL, body_enc = u.body_enc, data_key_id = u.data_key_id
         FROM unnest($1::text[], $2::bigint[], $3::bytea[], $4::bigint[]) AS u(channel_id, seq, body_enc, data_key_id)
        WHERE m.channel_id = u.channel_id AND m.seq = u.seq`,
      [bodies.map((b) => b.channel), bodies.map((b) => b.seq), bodies.map((b) => b.bodyEnc), bodies.map((b) => b.dataKeyId)],
    );
  }

  /** Live messages a revocation covers, after (channel, seq), for announcing the change to clients. */
  async coveredMessages(
    workspace: string,
    r: Pick<Revocation, 'channel_id' | 'from_ts' | 'to_ts'>,
    after: { channel: string; seq: string },
    limit: number,
  ) {
    const { rows } = await this.pool.query<{ channel_id: string; seq: string; ts: string }>(
      `SELECT m.channel_id, m.seq, m.ts FROM messages m JOIN channels c ON c.id = m.channel_id
        WHERE c.workspace_id = $1 AND NOT m.deleted AND m.body_enc IS NOT NULL
          AND ($2::text IS NULL OR m.channel_id = $2)
          AND ($3::bigint IS NULL OR m.ts >= $3) AND ($4::bigint IS NULL OR m.ts <= $4)
          AND (m.channel_id, m.seq) > ($5, $6::bigint)
        ORDER BY m.channel_id, m.seq LIMIT $7`,
      [workspace, r.channel_id, r.from_ts, r.to_ts, after.channel, after.seq, limit],
    );
    return rows;
  }
}
