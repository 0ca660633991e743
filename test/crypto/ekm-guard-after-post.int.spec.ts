import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { seedChannel } from '../support/fixtures.js';

// The EKM plaintext guard on messages skips only the rows of the channel that post_message() has just
// checked itself, and only until that transaction ends (migrations/1795693300000_ekm-guard-skips-checked-posts.sql).
// Every other plaintext write into an EKM workspace is still refused with EK001: another channel in the
// same transaction, the same channel in a later transaction, with and without rich content.
describe('EKM guard after a plaintext post', () => {
  let db: TestDatabase;
  let pool: pg.Pool;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    await seedChannel(pool, { channel: 'CPLAIN', users: ['UPOSTER'] });
    await seedChannel(pool, { channel: 'CLATER', users: ['UPOSTER'] });
    await pool.query(`INSERT INTO workspaces (id, name) VALUES ('TEKM', 'ekm')`);
    await pool.query(`INSERT INTO users (id, workspace_id, name, role) VALUES ('USEALER', 'TEKM', 'sealer', 'member')`);
    await pool.query(
      `INSERT INTO channels (id, workspace_id, name, is_private, creator) VALUES ('CSEALED', 'TEKM', 'sealed', false, 'USEALER')`,
    );
    await pool.query(`INSERT INTO ekm_workspaces (workspace_id, provider, key_ref) VALUES ('TEKM', 'local', 'k1')`);
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  const postPlain = (db: pg.ClientBase, channel: string, rich: object | null = null) =>
    db.query<{ error: string | null; seq: string }>(
      `SELECT error, seq FROM post_message('TSEED', $1, 'UPOSTER', 'hello', NULL, false, NULL, NULL, NULL, $2)`,
      [channel, rich && JSON.stringify(rich)],
    );
  const insertPlain = (db: pg.ClientBase, channel: string, column: 'text' | 'rich') =>
    db.query(`INSERT INTO messages (channel_id, seq, ts, user_id, ${column}) VALUES ($1, 999, 999, 'USEALER', $2)`, [
      channel,
      column === 'text' ? 'leak' : JSON.stringify({ blocks: [] }),
    ]);

  it("refuses another channel's plaintext in the transaction of a plaintext post", async () => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      expect((await postPlain(client, 'CPLAIN', { blocks: [] })).rows[0]).toEqual({ error: null, seq: '1' });
      for (const column of ['text', 'rich'] as const) {
        await client.query('SAVEPOINT s');
        await expect(insertPlain(client, 'CSEALED', column)).rejects.toMatchObject({ code: 'EK001' });
        await client.query('ROLLBACK TO SAVEPOINT s');
      }
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM messages WHERE channel_id = 'CSEALED'`);
    expect(rows[0].n).toBe(0);
  });

  it("refuses the same channel's plaintext once the post's transaction is over and the workspace uses EKM", async () => {
    const client = await pool.connect();
    try {
      expect((await postPlain(client, 'CLATER')).rows[0]).toEqual({ error: null, seq: '1' });
      await pool.query(`INSERT INTO ekm_workspaces (workspace_id, provider, key_ref) VALUES ('TSEED', 'local', 'k1')`);
      // The same session: what the post noted for its own transaction is gone.
      await expect(client.query(`UPDATE messages SET text = 'leak' WHERE channel_id = 'CLATER' AND seq = 1`)).rejects.toMatchObject({
        code: 'EK001',
      });
      await expect(
        client.query(`UPDATE messages SET rich = '{"blocks": []}' WHERE channel_id = 'CLATER' AND seq = 1`),
      ).rejects.toMatchObject({ code: 'EK001' });
      expect((await postPlain(client, 'CLATER')).rows[0]).toEqual({ error: 'ekm_required', seq: null });
    } finally {
      client.release();
    }
  });
});
