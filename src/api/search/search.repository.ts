import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../../db/database.module.js';
import { MESSAGE_COLUMNS, type MessageRow } from '../../domain/message.js';
import { readableChannel } from '../channels.repository.js';

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

/** Totals are exact up to this many hits. */
export const COUNT_CAP = 10_000;
/** Score order ranks this many of the newest matches (or as many as the page needs). */
export const RANK_WINDOW = 2_000;

/** The search index read for search.messages: visibility, modifiers and ranking in one query. */
@Injectable()
export class SearchRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  /**
   * One page of hits and the total. The total is counted exactly up to COUNT_CAP (then reported as
   * COUNT_CAP: Slack's clients show such totals as "10,000+"). Score order ranks the newest
   * RANK_WINDOW matches (more when a page reaches past them), so a word in every tenth message does
   * not rank its whole history for one page; time order walks the index by time.
   */
  async search(f: SearchFilter): Promise<{ total: number; hits: SearchHit[] }> {
    const params: unknown[] = [f.workspace, f.caller];
    const p = (value: unknown) => `$${params.push(value)}`;
    const where = [
      's.workspace_id = $1',
      // Only what the caller may read now: public channels, and private ones (DMs too) they are in.
      readableChannel('c', '$1', '$2'),
    ];
    let score = (_alias: string) => '0::real';
    if (f.match) {
      const branches = f.match.map((m) => ({
        version: (a: string) => (m.keyVersion === null ? `${a}.key_version IS NULL` : `${a}.key_version = ${m.keyVersion | 0}`),
        q: `${p(m.tsquery)}::tsquery`,
      }));
      where.push(`(${branches.map((b) => `(${b.version('s')} AND s.tokens @@ ${b.q})`).join(' OR ')})`);
      score = (a) =>
        branches.length === 1
          ? `ts_rank(${a}.tokens, ${branches[0].q})`
          : `CASE ${branches.map((b) => `WHEN ${b.version(a)} THEN ts_rank(${a}.tokens, ${b.q})`).join(' ')} ELSE 0 END`;
    }
    if (f.channels) where.push(`s.channel_id = ANY(${p(f.channels)}::text[])`);
    if (f.users) where.push(`s.user_id = ANY(${p(f.users)}::text[])`);
    if (f.after !== undefined) where.push(`s.ts >= ${p(f.after.toString())}::bigint`);
    if (f.before !== undefined) where.push(`s.ts < ${p(f.before.toString())}::bigint`);
    if (f.hasLink) where.push('s.has_link');
    if (f.hasPin) where.push('EXISTS (SELECT 1 FROM pins x WHERE x.channel_id = s.channel_id AND x.message_ts = s.ts)');
    if (f.hasReaction) where.push('EXISTS (SELECT 1 FROM reactions x WHERE x.channel_id = s.channel_id AND x.message_ts = s.ts)');
    const from = `FROM search_messages s JOIN channels c ON c.id = s.channel_id WHERE ${where.join(' AND ')}`;
    const counted = this.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM (SELECT 1 ${from} LIMIT ${COUNT_CAP}) x`, [...params]);

    const dir = f.dir === 'asc' ? 'ASC' : 'DESC';
    const cmp = f.dir === 'asc' ? '>' : '<';
    const k = f.after_key;
    const columns = 'h.channel_id, h.ts::text AS ts, h.user_id, u.name AS username, h.channel_name, h.is_private, h.kind';
    let sql: string;
    if (f.sort === 'score' && f.match) {
      const window = Math.max(RANK_WINDOW, f.offset + f.limit);
      const keyset = k ? `WHERE (r.score, r.ts, r.channel_id) ${cmp} (${p(k.score)}::real, ${p(k.ts)}::bigint, ${p(k.channel)}::text)` : '';
      sql = `WITH recent AS MATERIALIZED (
               SELECT s.channel_id, s.ts, s.user_id, s.key_version, s.tokens, c.name AS channel_name, c.is_private, c.kind
               ${from} ORDER BY s.ts DESC LIMIT ${window}),
             ranked AS (SELECT recent.*, ${score('recent')} AS score FROM recent)
             SELECT ${columns}, h.score FROM (SELECT * FROM ranked r ${keyset}
                ORDER BY r.score ${dir}, r.ts ${dir}, r.channel_id ${dir} LIMIT ${p(f.limit)} OFFSET ${p(f.offset)}) h
               LEFT JOIN users u ON u.id = h.user_id
              ORDER BY h.score ${dir}, h.ts ${dir}, h.channel_id ${dir}`;
    } else {
      const keyset = k ? `AND (s.ts, s.channel_id) ${cmp} (${p(k.ts)}::bigint, ${p(k.channel)}::text)` : '';
      sql = `SELECT ${columns}, ${score('h')} AS score FROM (
               SELECT s.channel_id, s.ts, s.user_id, s.key_version, s.tokens, c.name AS channel_name, c.is_private, c.kind
               ${from} ${keyset} ORDER BY s.ts ${dir}, s.channel_id ${dir} LIMIT ${p(f.limit)} OFFSET ${p(f.offset)}) h
               LEFT JOIN users u ON u.id = h.user_id
              ORDER BY h.ts ${dir}, h.channel_id ${dir}`;
    }
    const [count, page] = await Promise.all([counted, this.pool.query<SearchHit>(sql, params)]);
    return { total: count.rows[0].n, hits: page.rows.map((r) => ({ ...r, score: String(r.score) })) };
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
