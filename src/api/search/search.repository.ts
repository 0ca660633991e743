import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../../db/database.module.js';
import { MESSAGE_COLUMNS, type MessageRow } from '../../domain/message.js';

/** A word condition for the index rows made with one key version (null: plain words). */
export interface WordMatch {
  keyVersion: number | null;
  tsquery: string;
}

export interface SearchFilter {
  workspace: string;
  caller: string;
  /** undefined: no word condition (modifiers only). */
  match?: WordMatch[];
  /** Resolved `in:` channels (undefined: every channel the caller may read). */
  channels?: string[];
  /** Resolved `from:` authors. */
  users?: string[];
  after?: bigint;
  before?: bigint;
  hasLink: boolean;
  hasPin: boolean;
  hasReaction: boolean;
  sort: 'score' | 'timestamp';
  dir: 'asc' | 'desc';
  limit: number;
  offset: number;
  /** Keyset (cursor paging): the last row of the previous page. */
  after_key?: { score: string; ts: string; channel: string };
}

export interface SearchHit {
  channel_id: string;
  ts: string;
  user_id: string;
  username: string | null;
  score: string;
  channel_name: string;
  is_private: boolean;
  kind: string;
}

/** The search index read for search.messages: visibility, modifiers and ranking in one query. */
@Injectable()
export class SearchRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  async search(f: SearchFilter): Promise<{ total: number; hits: SearchHit[] }> {
    const params: unknown[] = [f.workspace, f.caller];
    const p = (value: unknown) => `$${params.push(value)}`;
    const where = [
      's.workspace_id = $1',
      // Only what the caller may read now: public channels, and private ones (DMs too) they are in.
      'c.workspace_id = $1',
      '(NOT c.is_private OR EXISTS (SELECT 1 FROM channel_members m WHERE m.channel_id = s.channel_id AND m.user_id = $2))',
    ];
    let score = '0::real';
    if (f.match) {
      const branches = f.match.map((m) => {
        const version = m.keyVersion === null ? 's.key_version IS NULL' : `s.key_version = ${p(m.keyVersion)}`;
        return { version, q: `${p(m.tsquery)}::tsquery` };
      });
      where.push(`(${branches.map((b) => `(${b.version} AND s.tokens @@ ${b.q})`).join(' OR ')})`);
      score =
        branches.length === 1
          ? `ts_rank(s.tokens, ${branches[0].q})`
          : `CASE ${branches.map((b) => `WHEN ${b.version} THEN ts_rank(s.tokens, ${b.q})`).join(' ')} ELSE 0 END`;
    }
    if (f.channels) where.push(`s.channel_id = ANY(${p(f.channels)}::text[])`);
    if (f.users) where.push(`s.user_id = ANY(${p(f.users)}::text[])`);
    if (f.after !== undefined) where.push(`s.ts >= ${p(f.after.toString())}::bigint`);
    if (f.before !== undefined) where.push(`s.ts < ${p(f.before.toString())}::bigint`);
    if (f.hasLink) where.push('s.has_link');
    if (f.hasPin) where.push('EXISTS (SELECT 1 FROM pins x WHERE x.channel_id = s.channel_id AND x.message_ts = s.ts)');
    if (f.hasReaction) where.push('EXISTS (SELECT 1 FROM reactions x WHERE x.channel_id = s.channel_id AND x.message_ts = s.ts)');

    const dir = f.dir === 'asc' ? 'ASC' : 'DESC';
    const cmp = f.dir === 'asc' ? '>' : '<';
    const order = f.sort === 'score' ? `h.score ${dir}, h.ts ${dir}, h.channel_id ${dir}` : `h.ts ${dir}, h.channel_id ${dir}`;
    let page = '';
    if (f.after_key) {
      const k = f.after_key;
      page =
        f.sort === 'score'
          ? `WHERE (h.score, h.ts, h.channel_id) ${cmp} (${p(k.score)}::real, ${p(k.ts)}::bigint, ${p(k.channel)}::text)`
          : `WHERE (h.ts, h.channel_id) ${cmp} (${p(k.ts)}::bigint, ${p(k.channel)}::text)`;
    }
    const { rows } = await this.pool.query<SearchHit & { total: string }>(
      `WITH hits AS MATERIALIZED (
         SELECT s.channel_id, s.ts, s.user_id, ${score} AS score, c.name AS channel_name, c.is_private, c.kind
           FROM search_messages s JOIN channels c ON c.id = s.channel_id
          WHERE ${where.join(' AND ')})
       SELECT t.total, h.* FROM (SELECT count(*)::text AS total FROM hits) t
         LEFT JOIN LATERAL (
           SELECT h.channel_id, h.ts, h.user_id, u.name AS username, h.score, h.channel_name, h.is_private, h.kind
             FROM hits h LEFT JOIN users u ON u.id = h.user_id
             ${page}
            ORDER BY ${order}
            LIMIT ${p(f.limit)} OFFSET ${p(f.offset)}) h ON true
        ORDER BY ${order}`,
      params,
    );
    // One row carries the total even when the page is empty (its hit columns are then null).
    const hits = rows.filter((r) => r.channel_id !== null).map((r) => ({ ...r, ts: String(r.ts), score: String(r.score) }));
    return { total: Number(rows[0]?.total ?? 0), hits };
  }

  /** The bodies of a page of hits (sealed ones are opened by the caller). */
  async bodies(keys: Array<{ channel_id: string; ts: string }>): Promise<MessageRow[]> {
    if (!keys.length) return [];
    const { rows } = await this.pool.query<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages
        WHERE (channel_id, ts) IN (SELECT * FROM unnest($1::text[], $2::bigint[]))`,
      [keys.map((k) => k.channel_id), keys.map((k) => k.ts)],
    );
    return rows;
  }

  /** `in:` channel names or ids, as channel ids of the workspace (unknown ones are dropped). */
  async channelIds(workspace: string, refs: string[]): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT id FROM channels WHERE workspace_id = $1 AND kind = 'channel' AND (id = ANY($2) OR name = ANY($3))`,
      [workspace, refs, refs.map((r) => r.toLowerCase())],
    );
    return rows.map((r) => r.id);
  }

  /** User names or ids, as user ids of the workspace. */
  async userIds(workspace: string, refs: string[]): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      'SELECT id FROM users WHERE workspace_id = $1 AND (id = ANY($2) OR lower(name) = ANY($3))',
      [workspace, refs, refs.map((r) => r.toLowerCase())],
    );
    return rows.map((r) => r.id);
  }

  /** The caller's one-to-one DMs with these users. */
  async directMessageIds(workspace: string, caller: string, users: string[]): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT c.id FROM channels c
        WHERE c.workspace_id = $1 AND c.kind = 'im'
          AND EXISTS (SELECT 1 FROM channel_members m WHERE m.channel_id = c.id AND m.user_id = $2)
          AND EXISTS (SELECT 1 FROM channel_members m WHERE m.channel_id = c.id AND m.user_id = ANY($3) AND m.user_id <> $2)`,
      [workspace, caller, users],
    );
    return rows.map((r) => r.id);
  }
}
