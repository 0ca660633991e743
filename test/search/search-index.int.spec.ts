import pg from 'pg';
import { type BlindKey, SearchKeyUnavailable } from '../../src/crypto/search-keys.js';
import type { GlobalEvent } from '../../src/projections/projection.js';
import { SearchIndexProjection } from '../../src/projections/search-index/search-index.projection.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

// The projection against a real database with a stand-in key source: plain words, blind tokens,
// and a workspace whose key its provider refuses (its messages wait; the others are indexed).
describe('search-index projection', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  const blind: BlindKey = { version: 3, token: (w) => `t${Buffer.from(w).toString('hex')}` };
  let failWith: Error | undefined;
  const keys = {
    current: async (workspace: string) => {
      if (workspace === 'TREVOKED') throw failWith ?? new SearchKeyUnavailable(workspace);
      return workspace === 'TBLIND' ? blind : undefined;
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

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    for (const ws of ['TPLAIN', 'TBLIND', 'TREVOKED']) {
      await pool.query(`INSERT INTO workspaces (id, name) VALUES ($1, $1)`, [ws]);
      await pool.query(`INSERT INTO users (id, workspace_id, name, role) VALUES ($1, $2, 'u', 'member')`, [`U${ws}`, ws]);
      await pool.query(`INSERT INTO channels (id, workspace_id, name, is_private, creator) VALUES ($1, $2, 'c', false, $3)`, [
        `C${ws}`,
        ws,
        `U${ws}`,
      ]);
    }
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  const rows = async () =>
    (await pool.query('SELECT channel_id, key_version, tokens::text FROM search_messages ORDER BY channel_id, ts')).rows;

  it('indexes plain words and blind tokens; a workspace without a usable key waits without stalling the others', async () => {
    const projection = new SearchIndexProjection(keys);
    await projection.apply(pool, [message('CTPLAIN', 'Hello hello world'), message('CTBLIND', 'hi'), message('CTREVOKED', 'secret')]);
    expect(await rows()).toEqual([
      { channel_id: 'CTBLIND', key_version: 3, tokens: `'t6869':1` },
      { channel_id: 'CTPLAIN', key_version: null, tokens: `'hello':1,2 'world':3` },
    ]);
  });

  it('any other failure fails the batch (it is retried), rather than dropping rows', async () => {
    failWith = new Error('connection lost');
    const projection = new SearchIndexProjection(keys);
    await expect(projection.apply(pool, [message('CTREVOKED', 'again')])).rejects.toThrow('connection lost');
    failWith = undefined;
  });

  it('deletes remove, edits of removed messages do not bring them back', async () => {
    const projection = new SearchIndexProjection(keys);
    const posted = message('CTPLAIN', 'to be removed');
    await projection.apply(pool, [posted]);
    await projection.apply(pool, [
      { type: 'message_deleted', channel: 'CTPLAIN', seq: ++n, ts: '1700000001.000000', deleted_ts: posted.ts, cursor: `1-${n}` },
      {
        type: 'message_changed',
        channel: 'CTPLAIN',
        seq: ++n,
        ts: '1700000001.000001',
        message: { type: 'message', user: 'U1', text: 'edited', ts: posted.ts },
        cursor: `1-${n}`,
      },
    ]);
    const { rows: left } = await pool.query('SELECT 1 FROM search_messages WHERE channel_id = $1 AND ts = $2', [
      'CTPLAIN',
      posted.ts.replace('.', ''),
    ]);
    expect(left).toEqual([]);
  });
});
