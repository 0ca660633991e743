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

/** The caller's readable channels, as a join (for the planner's own plans) and as a per-row filter (for the walk). */
interface Visible {
  join: string;
  filter: string;
}

/** Totals are exact up to this many hits (the web client shows the cap as "2,000+": MESSAGE_TOTAL_CAP). */
export const COUNT_CAP = 2_000;
/** Score order ranks this many of the newest matches (or as many as the page needs). */
export const RANK_WINDOW = 200;

/**
 * The walk's row budget and the probe's match limit for the `need` first matches (see candidates):
 * sqrt(need x 1,000,000). A word with more matches than that in a million messages is found
 * `need` times within that many rows read by time; one with fewer is cheaper read from the GIN
 * index, all of it. Either way a query reads at most about twice this many rows. Never below
 * COUNT_CAP: the probe then also gives the total.
 */
export function walkBudget(need: number): number {
  return Math.min(60_000, Math.max(COUNT_CAP, Math.round(Math.sqrt(need * 1_000_000))));
}

/** The search index read for search.messages: visibility, modifiers and ranking. */
@Injectable()
export class SearchRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  /**
   * One page of hits and the total, in one statement. The total is exact up to COUNT_CAP, then
   * reported as COUNT_CAP ("2,000+": every page `page` allows at the default count). Both orders
   * start from the first matches of the query in time order, found by `candidates`; score order
   * ranks the newest RANK_WINDOW of them (more when a page reaches past them), so a frequent word
   * does not rank its whole history for one page.
   */
  async search(f: SearchFilter): Promise<{ total: number; hits: SearchHit[] }> {
    const params: unknown[] = [f.workspace, f.caller];
    const p = (value: unknown) => `$${params.push(value)}`;
    const where = ['s.workspace_id = $1'];
    // Only what the caller may read now: public channels, and private ones (DMs too) they are in.
    const readable = readableChannel('c', '$1', '$2');
    const visible: Visible = {
      join: `JOIN channels c ON c.id = s.channel_id AND ${readable}`,
      // For the walk: the readable channels listed once (an InitPlan), so reading by time needs no join.
      filter: `s.channel_id = ANY(ARRAY(SELECT c.id FROM channels c WHERE ${readable}))`,
    };
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
    // Time bounds also start the walk (see candidates).
    const bounds: string[] = [];
    if (f.after !== undefined) bounds.push(`s.ts >= ${p(f.after.toString())}::bigint`);
    if (f.before !== undefined) bounds.push(`s.ts < ${p(f.before.toString())}::bigint`);
    if (f.hasLink) where.push('s.has_link');
    if (f.hasPin) where.push('EXISTS (SELECT 1 FROM pins x WHERE x.channel_id = s.channel_id AND x.message_ts = s.ts)');
    if (f.hasReaction) where.push('EXISTS (SELECT 1 FROM reactions x WHERE x.channel_id = s.channel_id AND x.message_ts = s.ts)');
    // The walk reads by the narrowest time-ordered index the query allows: one channel, one author, or the workspace.
    const walkFrom =
      f.channels?.length === 1
        ? `s.channel_id = ${p(f.channels[0])}::text`
        : f.users?.length === 1
          ? `s.user_id = ${p(f.users[0])}::text`
          : 's.workspace_id = $1';
    const dir = f.dir === 'asc' ? 'ASC' : 'DESC';
    const cmp = f.dir === 'asc' ? '>' : '<';
    const k = f.after_key;
    const columns = 'h.channel_id, h.ts::text AS ts, h.user_id, u.name AS username, c.name AS channel_name, c.is_private, c.kind';
    const join = 'JOIN channels c ON c.id = h.channel_id LEFT JOIN users u ON u.id = h.user_id';
    // The probe holds every match (without the keyset) when there are at most walkBudget(need) >= COUNT_CAP.
    const withTotal = `SELECT (SELECT least(count(*), ${COUNT_CAP}) FROM probe)::int AS total, page.* FROM (SELECT) one LEFT JOIN page ON true`;
    let sql: string;
    if (f.sort === 'score' && f.match) {
      const window = Math.max(RANK_WINDOW, f.offset + f.limit);
      const keyset = k ? `WHERE (r.score, r.ts, r.channel_id) ${cmp} (${p(k.score)}::real, ${p(k.ts)}::bigint, ${p(k.channel)}::text)` : '';
      sql = `WITH ${candidates(visible, walkFrom, where, bounds, [], 'DESC', window)},
             ranked AS (SELECT cand.*, ${score('cand')} AS score FROM cand),
             page AS (SELECT ${columns}, h.score FROM (SELECT * FROM ranked r ${keyset}
                ORDER BY r.score ${dir}, r.ts ${dir}, r.channel_id ${dir} LIMIT ${p(f.limit)} OFFSET ${p(f.offset)}) h ${join})
             ${withTotal} ORDER BY page.score ${dir}, page.ts::bigint ${dir}, page.channel_id ${dir}`;
    } else {
      // The keyset's ts bounds the walk too; the row comparison settles ties of ts.
      const keyset = k
        ? [`s.ts ${cmp}= ${p(k.ts)}::bigint`, `(s.ts, s.channel_id) ${cmp} (${p(k.ts)}::bigint, ${p(k.channel)}::text)`]
        : [];
      sql = `WITH ${candidates(visible, walkFrom, where, bounds, keyset, dir, f.offset + f.limit)},
             page AS (SELECT ${columns}, ${score('h')} AS score FROM (
               SELECT * FROM cand ORDER BY cand.ts ${dir}, cand.channel_id ${dir} LIMIT ${p(f.limit)} OFFSET ${p(f.offset)}) h ${join})
             ${withTotal} ORDER BY page.ts::bigint ${dir}, page.channel_id ${dir}`;
    }
    // One row with a null page when the page is empty, for the total.
    const { rows } = await this.pool.query<SearchHit & { total: number }>(sql, params);
    return {
      total: rows[0].total,
      hits: rows.filter((r) => r.channel_id !== null).map(({ total: _total, ...r }) => ({ ...r, score: String(r.score) })),
    };
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

/**
 * The CTE `cand`: the `need` first rows matching `where` in time order (`dir`, ties by channel),
 * with what ranking and the page need. One statement, three ways to the same rows, each run only
 * when the one before could not answer (one-time filters on the row counts):
 * - the probe: the keys of any walkBudget(need) + 1 matches, no order (the GIN bitmap, stopping there). A word
 *   with no more matches than that has them all here: they are sorted. Cheap for a rare word.
 * - the walk: rows read by time from `walkFrom` (within `bounds`), each tested against the query,
 *   until `need` match, at most walkBudget(need) rows. Cheap for a frequent word.
 * - else the planner's own plan: a word frequent in old messages but not in recent ones.
 */
function candidates(
  visible: Visible,
  walkFrom: string,
  where: string[],
  bounds: string[],
  keyset: string[],
  dir: 'ASC' | 'DESC',
  need: number,
): string {
  const cols = 's.channel_id, s.ts, s.user_id, s.key_version, s.tokens';
  const order = `ORDER BY s.ts ${dir}, s.channel_id ${dir}`;
  const all = [...where, ...bounds].join(' AND ');
  const after = keyset.map((c) => ` AND ${c}`).join('');
  const probe = walkBudget(need);
  return `probe AS MATERIALIZED (
      SELECT s.channel_id, s.ts FROM search_messages s ${visible.join} WHERE ${all} LIMIT ${probe + 1}),
    walk AS MATERIALIZED (
      SELECT ${cols} FROM (
        SELECT * FROM search_messages s WHERE ${[walkFrom, ...bounds, ...keyset].join(' AND ')} ${order} LIMIT ${walkBudget(need)}) s
       WHERE (SELECT count(*) FROM probe) > ${probe} AND ${visible.filter} AND ${all}${after} ${order} LIMIT ${need}),
    cand AS MATERIALIZED (
      SELECT ${cols} FROM search_messages s JOIN (
        SELECT * FROM probe s WHERE (SELECT count(*) FROM probe) <= ${probe}${after} ${order} LIMIT ${need}) k
        ON s.channel_id = k.channel_id AND s.ts = k.ts
      UNION ALL
      SELECT * FROM walk WHERE (SELECT count(*) FROM walk) = ${need}
      UNION ALL
      (SELECT ${cols} FROM search_messages s ${visible.join}
        WHERE ${all}${after} AND (SELECT count(*) FROM probe) > ${probe} AND (SELECT count(*) FROM walk) < ${need} ${order} LIMIT ${need}))`;
}
