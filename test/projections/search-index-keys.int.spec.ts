import pg from 'pg';
import type { BlindKey } from '../../src/crypto/search-keys.js';
import type { GlobalEvent } from '../../src/projections/projection.js';
import { SearchIndexProjection } from '../../src/projections/search-index/search-index.projection.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

// The search index takes keys from the settings cache and asks for fresh settings only when its
// write finds that a workspace's EKM settings moved on (enabled, or rotated): no row is written
// under settings older than the database's, and a batch of unchanged workspaces asks for none.
describe('search-index projection: cached EKM settings', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  const key = (version: number): BlindKey => ({ version, token: (w) => `v${version}${Buffer.from(w).toString('hex')}` });
  /** What the cache still says (`cached`) and what fresh settings say, per workspace. */
  const cached = new Map<string, BlindKey | undefined>();
  const current = new Map<string, BlindKey | undefined>();
  const asked: Array<{ workspace: string; fresh: boolean }> = [];
  const keys = {
    current: async (workspace: string, fresh = false) => {
      asked.push({ workspace, fresh });
      return (fresh ? current : cached).get(workspace);
    },
  };
  let n = 0;
  const message = (channel: string, text: string): GlobalEvent => ({
    type: 'message',
    channel,
    seq: ++n,
    ts: `1700000000.${String(n).padStart(6, '0')}`,
    user: 'U1',
    text,
    cursor: `1-${n}`,
  });
  const row = async (channel: string) =>
    (await pool.query('SELECT key_version, tokens::text FROM search_messages WHERE channel_id = $1 ORDER BY ts DESC LIMIT 1', [channel]))
      .rows[0];

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    for (const ws of ['TSTEADY', 'TENABLED', 'TROTATED']) {
      await pool.query(`INSERT INTO workspaces (id, name) VALUES ($1, $1)`, [ws]);
      await pool.query(`INSERT INTO users (id, workspace_id, name, role) VALUES ($1, $2, 'u', 'member')`, [`U${ws}`, ws]);
      await pool.query(`INSERT INTO channels (id, workspace_id, name, is_private, creator) VALUES ($1, $2, 'c', false, $3)`, [
        `C${ws}`,
        ws,
        `U${ws}`,
      ]);
    }
    // EKM enabled in TENABLED (the cache still says plain); TROTATED rotated from version 1 to 2.
    await pool.query(`INSERT INTO ekm_workspaces (workspace_id, provider, key_ref, key_version) VALUES ('TENABLED', 'local', 'v1', 1)`);
    await pool.query(`INSERT INTO ekm_workspaces (workspace_id, provider, key_ref, key_version) VALUES ('TROTATED', 'local', 'v2', 2)`);
    cached.set('TENABLED', undefined).set('TROTATED', key(1));
    current.set('TENABLED', key(1)).set('TROTATED', key(2));
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  it('a workspace whose settings did not move asks for no fresh settings', async () => {
    asked.length = 0;
    await new SearchIndexProjection(keys).apply(pool, [message('CTSTEADY', 'hello')]);
    expect(asked).toEqual([{ workspace: 'TSTEADY', fresh: false }]);
    expect(await row('CTSTEADY')).toEqual({ key_version: null, tokens: `'hello':1` });
  });

  it('rows made under settings that moved on are made again with fresh ones, the others written once', async () => {
    asked.length = 0;
    await new SearchIndexProjection(keys).apply(pool, [
      message('CTSTEADY', 'plain'),
      message('CTENABLED', 'secret'),
      message('CTROTATED', 'rotated'),
    ]);
    expect(await row('CTSTEADY')).toEqual({ key_version: null, tokens: `'plain':1` });
    expect(await row('CTENABLED')).toEqual({ key_version: 1, tokens: `'v1${Buffer.from('secret').toString('hex')}':1` });
    expect(await row('CTROTATED')).toEqual({ key_version: 2, tokens: `'v2${Buffer.from('rotated').toString('hex')}':1` });
    expect(asked.filter((a) => a.fresh).map((a) => a.workspace)).toEqual(['TENABLED', 'TROTATED']);
  });
});
