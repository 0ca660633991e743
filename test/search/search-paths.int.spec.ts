import pg from 'pg';
import { COUNT_CAP, RANK_WINDOW, SearchRepository, type SearchFilter, walkBudget } from '../../src/api/search/search.repository.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

// The repository finds a query's first matches one of three ways (a GIN probe for rare words, a
// walk by time for frequent ones, the planner's plan for words frequent only long ago): each must
// give exactly the hits, order, scores and totals of a plain oracle query over every match.
describe('search repository: every query path gives the oracle answer', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let repo: SearchRepository;
  const N = 30_000;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    repo = new SearchRepository(pool);
    await pool.query(`INSERT INTO workspaces (id, name) VALUES ('TW', 'w'), ('TX', 'x')`);
    await pool.query(
      `INSERT INTO users (id, workspace_id, name, role) VALUES ('UA', 'TW', 'a', 'member'), ('UB', 'TW', 'b', 'member'), ('UX', 'TX', 'x', 'member')`,
    );
    // Four channels: two public, one private the caller (UA) is in, one private they are not in; one of another workspace.
    await pool.query(
      `INSERT INTO channels (id, workspace_id, name, is_private, creator) VALUES
         ('C1', 'TW', 'one', false, 'UA'), ('C2', 'TW', 'two', false, 'UA'), ('C3', 'TW', 'three', true, 'UA'),
         ('C4', 'TW', 'four', true, 'UB'), ('C9', 'TX', 'nine', false, 'UX')`,
    );
    await pool.query(`INSERT INTO channel_members (channel_id, user_id, joined_seq) VALUES ('C3', 'UA', 0), ('C4', 'UB', 0)`);
    // Every third row shares its ts with the row before it in another channel (ties order by channel).
    // `common`: 9 rows in 10; `rare`: 1 in 397; `old`: the oldest 9,000 rows only; words repeat to vary ts_rank.
    await pool.query(
      `INSERT INTO search_messages (channel_id, ts, workspace_id, user_id, has_link, tokens)
       SELECT CASE WHEN i = 5 THEN 'C9' ELSE 'C' || (1 + i % 4) END, 1000000 + (i - (i % 3 = 2)::int) * 10,
              CASE WHEN i = 5 THEN 'TX' ELSE 'TW' END, CASE WHEN i % 5 = 0 THEN 'UB' ELSE 'UA' END, i % 7 = 0,
              array_to_string(ARRAY[
                CASE WHEN i % 10 <> 0 THEN repeat('common ', 1 + i % 3) END,
                CASE WHEN i % 397 = 7 THEN 'rare' END,
                CASE WHEN i < 9000 THEN 'old' END, 'filler'], ' ')::tsvector
         FROM generate_series(1, ${N}) i`,
    );
    await pool.query('ANALYZE search_messages');
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  const filter = (tsquery: string, more: Partial<SearchFilter> = {}): SearchFilter => ({
    workspace: 'TW',
    caller: 'UA',
    match: [{ keyVersion: null, tsquery }],
    hasLink: false,
    hasPin: false,
    hasReaction: false,
    sort: 'timestamp',
    dir: 'desc',
    limit: 20,
    offset: 0,
    ...more,
  });

  /** Every visible match, then the order, window and page the repository documents. */
  async function oracle(f: SearchFilter) {
    const { rows } = await pool.query<{ channel_id: string; ts: string; score: number }>(
      `SELECT s.channel_id, s.ts::text AS ts, ts_rank(s.tokens, $1::tsquery) AS score
         FROM search_messages s JOIN channels c ON c.id = s.channel_id
        WHERE s.workspace_id = 'TW' AND s.tokens @@ $1::tsquery
          AND (NOT c.is_private OR EXISTS (SELECT 1 FROM channel_members m WHERE m.channel_id = c.id AND m.user_id = 'UA'))
          AND ($2::text[] IS NULL OR s.channel_id = ANY($2)) AND ($3::text[] IS NULL OR s.user_id = ANY($3))
          AND ($4::bigint IS NULL OR s.ts < $4)`,
      [f.match![0].tsquery, f.channels ?? null, f.users ?? null, f.before?.toString() ?? null],
    );
    const byTime = (a: (typeof rows)[0], b: (typeof rows)[0]) =>
      Number(BigInt(b.ts) - BigInt(a.ts)) || (b.channel_id < a.channel_id ? -1 : b.channel_id > a.channel_id ? 1 : 0);
    const sign = f.dir === 'asc' ? -1 : 1;
    let list = [...rows].sort(byTime);
    if (f.sort === 'score') {
      list = list.slice(0, Math.max(RANK_WINDOW, f.offset + f.limit));
      list.sort((a, b) => sign * (b.score - a.score || byTime(a, b)));
    } else if (f.dir === 'asc') list.reverse();
    return {
      total: Math.min(rows.length, COUNT_CAP),
      all: rows.length,
      hits: list.slice(f.offset, f.offset + f.limit).map((r) => `${r.channel_id}:${r.ts}:${r.score}`),
    };
  }

  const answer = async (f: SearchFilter) => {
    const r = await repo.search(f);
    return { total: r.total, hits: r.hits.map((h) => `${h.channel_id}:${h.ts}:${Number(h.score)}`) };
  };

  it('the words cover every path (rare below the probe, common above the walk, old beyond the walk)', async () => {
    const count = async (w: string) => (await oracle(filter(w))).all; // the matches UA may read
    expect(await count('rare')).toBeLessThan(walkBudget(20));
    expect(await count('common')).toBeGreaterThan(walkBudget(RANK_WINDOW));
    expect(await count('rare')).toBeGreaterThan(20);
    // Frequent, but none in the newest rows the walk reads: the planner's plan answers.
    expect(await count('old')).toBeGreaterThan(walkBudget(20));
    expect(await count('old')).toBeLessThan(N - walkBudget(20));
  });

  const cases: Array<[string, string, Partial<SearchFilter>]> = [
    ['frequent word, newest first', 'common', {}],
    ['frequent word, oldest first', 'common', { dir: 'asc' }],
    ['frequent word, page 3', 'common', { offset: 40 }],
    ['frequent word by score', 'common', { sort: 'score' }],
    ['frequent word by score, ascending, past the window', 'common', { sort: 'score', dir: 'asc', limit: 100, offset: 200 }],
    ['rare word, newest first', 'rare', {}],
    ['rare word by score', 'rare', { sort: 'score', limit: 100 }],
    ['word frequent long ago only', 'old', {}],
    ['word frequent long ago only, by score', 'old', { sort: 'score' }],
    ['exclusion', 'filler & !common', { dir: 'asc' }],
    ['in: one channel', 'common', { channels: ['C2'] }],
    ['in: a channel the caller may not read', 'common', { channels: ['C4'] }],
    ['from: one user', 'common', { users: ['UB'], sort: 'score' }],
    ['before:', 'common', { before: 1000000n + 10n * 5000n }],
  ];
  it.each(cases)('%s', async (_name, word, more) => {
    const f = filter(word, more);
    const { total, hits } = await oracle(f);
    expect(await answer(f)).toEqual({ total, hits });
  });

  it('cursor pages by time walk the whole frequent word without gaps or repeats', async () => {
    const expected = (await oracle(filter('common', { limit: 300 }))).hits;
    const seen: string[] = [];
    let key: SearchFilter['after_key'];
    while (seen.length < expected.length) {
      const { hits } = await repo.search(filter('common', { limit: 100, after_key: key }));
      if (!hits.length) break;
      seen.push(...hits.map((h) => `${h.channel_id}:${h.ts}:${Number(h.score)}`));
      const last = hits[hits.length - 1];
      key = { score: last.score, ts: last.ts, channel: last.channel_id };
    }
    expect(seen.slice(0, 300)).toEqual(expected);
  });
});
