import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { seedChannel } from '../support/fixtures.js';

// post_message() takes the head row with every check in its UPDATE and, only when that refuses, reads
// the facts again to say why. This pins what a caller sees: which answer wins when several apply
// (access, then a client_msg_id retry, then ekm_required, then thread_not_found), that a refusal
// leaves the channel's head where it was, and that the next post takes the very next seq.

interface Answer {
  error: string | null;
  seq: string | null;
  ts: string | null;
  thread_ts: string | null;
  duplicate: boolean | null;
}

describe('post_message() refusals', () => {
  let db: TestDatabase;
  let pool: pg.Pool;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    await seedChannel(pool, { channel: 'CPUB', users: ['UMEMBER'] });
    await seedChannel(pool, { channel: 'COTHER', users: ['UMEMBER'] });
    await pool.query(`INSERT INTO users (id, workspace_id, name, role) VALUES ('UOUTSIDER', 'TSEED', 'outsider', 'member')`);
    await pool.query(`INSERT INTO workspaces (id, name) VALUES ('TEKM', 'ekm')`);
    await pool.query(`INSERT INTO users (id, workspace_id, name, role) VALUES ('UEKM', 'TEKM', 'ekm', 'member')`);
    await pool.query(`INSERT INTO channels (id, workspace_id, name, is_private, creator) VALUES ('CEKM', 'TEKM', 'sealed', false, 'UEKM')`);
    await pool.query(`INSERT INTO channel_members (channel_id, user_id, joined_seq) VALUES ('CEKM', 'UEKM', 0)`);
    await pool.query(`INSERT INTO ekm_workspaces (workspace_id, provider, key_ref) VALUES ('TEKM', 'local', 'k1')`);
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  const post = async (
    channel: string,
    user: string,
    opts: { workspace?: string; threadTs?: string; clientMsgId?: string; sealed?: boolean } = {},
  ): Promise<Answer> =>
    (
      await pool.query<Answer>('SELECT * FROM post_message($1, $2, $3, $4, $5, false, $6, $7, $8)', [
        opts.workspace ?? 'TSEED',
        channel,
        user,
        opts.sealed ? null : 'hello',
        opts.threadTs ?? null,
        opts.clientMsgId ?? null,
        opts.sealed ? Buffer.from('sealed') : null,
        opts.sealed ? '1' : null,
      ])
    ).rows[0];

  const head = async (channel: string) =>
    (await pool.query<{ head_seq: string; head_ts: string }>('SELECT head_seq, head_ts FROM channels WHERE id = $1', [channel])).rows[0];
  const written = async (channel: string) =>
    (
      await pool.query<{ events: string; messages: string }>(
        `SELECT (SELECT count(*) FROM events WHERE channel_id = $1) AS events, (SELECT count(*) FROM messages WHERE channel_id = $1) AS messages`,
        [channel],
      )
    ).rows[0];

  it('the access checks answer before a retry, EKM or a thread would, and a refusal moves no head', async () => {
    const first = await post('CPUB', 'UMEMBER', { clientMsgId: randomUUID() });
    expect(first).toMatchObject({ error: null, seq: '1', duplicate: false });
    const before = await head('CPUB');
    expect(before).toEqual({ head_seq: '1', head_ts: first.ts });

    // A stranger replying to a thread that does not exist is told about the channel, not the thread.
    expect(await post('CPUB', 'UOUTSIDER', { threadTs: '1', clientMsgId: randomUUID() })).toMatchObject({ error: 'not_in_channel' });
    // The channel of another workspace is not found, whatever else the call carries.
    expect(await post('CPUB', 'UMEMBER', { workspace: 'TEKM', threadTs: '1' })).toMatchObject({ error: 'channel_not_found' });
    expect(await post('CPUB', 'UMEMBER', { threadTs: '42' })).toMatchObject({ error: 'thread_not_found', seq: null });

    await pool.query(`UPDATE channels SET is_archived = true WHERE id = 'COTHER'`);
    expect(await post('COTHER', 'UMEMBER', { threadTs: '42' })).toMatchObject({ error: 'is_archived' });
    await pool.query(`UPDATE users SET role = 'analyst' WHERE id = 'UOUTSIDER'`);
    expect(await post('CPUB', 'UOUTSIDER')).toMatchObject({ error: 'restricted_action' });

    expect(await head('CPUB')).toEqual(before);
    expect(await head('COTHER')).toEqual({ head_seq: '0', head_ts: '0' });
    expect(await written('CPUB')).toEqual({ events: '1', messages: '1' });
    expect(await written('COTHER')).toEqual({ events: '0', messages: '0' });

    // Refusals took no seq: the next post is the next one.
    const next = await post('CPUB', 'UMEMBER');
    expect(next).toMatchObject({ error: null, seq: '2', duplicate: false });
    expect(BigInt(next.ts!)).toBeGreaterThan(BigInt(first.ts!));
  });

  it("a retry of the caller's own post answers with it before EKM or the thread is looked at; another author's id does not", async () => {
    const root = await post('CPUB', 'UMEMBER');
    const id = randomUUID();
    const reply = await post('CPUB', 'UMEMBER', { threadTs: root.ts!, clientMsgId: id });
    expect(reply).toMatchObject({ error: null, thread_ts: root.ts, duplicate: false });
    const before = await head('CPUB');

    // The retry names a thread that does not exist: the stored reply answers all the same.
    expect(await post('CPUB', 'UMEMBER', { threadTs: '42', clientMsgId: id })).toEqual({ ...reply, duplicate: true });
    expect(await head('CPUB')).toEqual(before);

    await seedChannel(pool, { channel: 'CTWO', users: ['UONE', 'UTWO'] });
    const mine = await post('CTWO', 'UONE', { clientMsgId: id });
    const theirs = await post('CTWO', 'UTWO', { clientMsgId: id });
    expect([mine.seq, theirs.seq, mine.duplicate, theirs.duplicate]).toEqual(['1', '2', false, false]);

    // In an EKM workspace a plaintext retry of a sealed post answers with it; a new plaintext post is refused.
    const sealedId = randomUUID();
    const sealed = await post('CEKM', 'UEKM', { workspace: 'TEKM', clientMsgId: sealedId, sealed: true });
    expect(sealed).toMatchObject({ error: null, seq: '1' });
    expect(await post('CEKM', 'UEKM', { workspace: 'TEKM', clientMsgId: sealedId })).toEqual({ ...sealed, duplicate: true });
    expect(await post('CEKM', 'UEKM', { workspace: 'TEKM', clientMsgId: randomUUID() })).toMatchObject({ error: 'ekm_required' });
    expect(await post('CEKM', 'UEKM', { workspace: 'TEKM', threadTs: '42' })).toMatchObject({ error: 'ekm_required' });
    expect(await head('CEKM')).toEqual({ head_seq: '1', head_ts: sealed.ts });
  });

  it('a reply to a reply joins its root thread; a reply to a deleted message without replies is refused', async () => {
    const root = await post('CPUB', 'UMEMBER');
    const reply = await post('CPUB', 'UMEMBER', { threadTs: root.ts! });
    const nested = await post('CPUB', 'UMEMBER', { threadTs: reply.ts! });
    expect(nested).toMatchObject({ error: null, thread_ts: root.ts });
    const { rows } = await pool.query('SELECT reply_count, latest_reply::text FROM messages WHERE channel_id = $1 AND ts = $2', [
      'CPUB',
      root.ts,
    ]);
    expect(rows[0]).toEqual({ reply_count: 2, latest_reply: nested.ts });

    const lone = await post('CPUB', 'UMEMBER');
    await pool.query(`UPDATE messages SET deleted = true, text = NULL WHERE channel_id = 'CPUB' AND ts = $1`, [lone.ts]);
    const before = await head('CPUB');
    expect(await post('CPUB', 'UMEMBER', { threadTs: lone.ts! })).toMatchObject({ error: 'thread_not_found' });
    expect(await head('CPUB')).toEqual(before);
  });
});
