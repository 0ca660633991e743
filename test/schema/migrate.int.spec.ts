import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { MIGRATIONS_DIR, migrate } from '../../src/db/database.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { seedChannel } from '../support/fixtures.js';

/** What a migrate could change: our functions' definitions, the tables' columns and constraints, the migrations run. */
async function schemaOf(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ part: string }>(
      `SELECT pg_get_functiondef(p.oid) AS part FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
       UNION ALL
       SELECT format('%s.%s %s', table_name, column_name, data_type) FROM information_schema.columns WHERE table_schema = 'public'
       UNION ALL
       SELECT conrelid::regclass || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'public'::regnamespace
       UNION ALL
       SELECT name FROM pgmigrations
       ORDER BY 1`,
    );
    return rows.map((r) => r.part).join('\n');
  } finally {
    await client.end();
  }
}

async function query<T extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

describe('migrate', () => {
  const dropLater: TestDatabase[] = [];
  const emptyDatabase = async () => {
    const db = await createTestDatabase({ empty: true });
    dropLater.push(db);
    return db;
  };
  let copy: string;

  beforeEach(async () => {
    copy = await mkdtemp(join(tmpdir(), 'atomcast-migrations-'));
    await cp(MIGRATIONS_DIR, copy, { recursive: true });
  });
  afterEach(() => rm(copy, { recursive: true, force: true }));
  afterAll(async () => {
    for (const db of dropLater) await db.drop();
  });

  it('run twice is a no-op: nothing applied, the schema and the data unchanged', async () => {
    const db = await emptyDatabase();
    expect(await migrate(db.url)).toEqual(expect.arrayContaining(['1795689100000_channel-streams']));
    const schema = await schemaOf(db.url);
    await query(db.url, `INSERT INTO workspaces (id, name) VALUES ('TKEEP', 'kept')`);

    expect(await migrate(db.url)).toEqual([]);
    expect(await schemaOf(db.url)).toBe(schema);
    expect(await query(db.url, 'SELECT id FROM workspaces')).toEqual([{ id: 'TKEEP' }]);
  });

  it('concurrent runs (nodes starting together) wait for each other and both succeed', async () => {
    const db = await emptyDatabase();
    const runs = await Promise.all([migrate(db.url), migrate(db.url), migrate(db.url)]);
    expect(runs.filter((applied) => applied.length > 0)).toHaveLength(1);
    expect(await query(db.url, 'SELECT count(*)::int AS n FROM pgmigrations')).toEqual([{ n: runs.flat().length }]);
  });

  it("a changed function file is re-applied: today's definition wins", async () => {
    const db = await emptyDatabase();
    await migrate(db.url, { dir: copy });
    const file = join(copy, 'functions', '00_events_are_append_only.sql');
    await writeFile(file, (await readFile(file, 'utf8')).replace("'events are append-only:", "'the log is append-only:"));

    expect(await migrate(db.url, { dir: copy })).toEqual([]); // no table migration pending, the function still changes
    await expect(query(db.url, 'TRUNCATE events')).rejects.toThrow('the log is append-only: TRUNCATE is not allowed');
  });

  it('a function file that fails leaves nothing applied: functions and tables commit together', async () => {
    const db = await emptyDatabase();
    await writeFile(
      join(copy, 'functions', '99_broken.sql'),
      'CREATE OR REPLACE FUNCTION broken() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN; END $$;',
    );

    await expect(migrate(db.url, { dir: copy })).rejects.toThrow();
    expect(await query(db.url, `SELECT to_regclass('events') AS events, to_regclass('pgmigrations') AS migrations`)).toEqual([
      { events: null, migrations: null },
    ]);
    expect(await query(db.url, `SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace`)).toEqual([]);
  });

  it('table migrations hold no functions; each function file defines the one function it is named after', async () => {
    for (const name of (await readdir(MIGRATIONS_DIR)).filter((n) => n.endsWith('.sql'))) {
      expect([name, /CREATE\s+(OR\s+REPLACE\s+)?FUNCTION/i.test(await readFile(join(MIGRATIONS_DIR, name), 'utf8'))]).toEqual([
        name,
        false,
      ]);
    }
    for (const name of await readdir(join(MIGRATIONS_DIR, 'functions'))) {
      const sql = await readFile(join(MIGRATIONS_DIR, 'functions', name), 'utf8');
      const defined = [...sql.matchAll(/CREATE\s+OR\s+REPLACE\s+FUNCTION\s+(\w+)/gi)].map((m) => m[1]);
      expect([name, defined]).toEqual([name, [/^\d+_(\w+)\.sql$/.exec(name)?.[1]]]);
    }
  });
});

describe('schema', () => {
  let db: TestDatabase;
  let pool: pg.Pool;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    await seedChannel(pool, { channel: 'CHEAD', users: ['UHEAD'] });
    await seedChannel(pool, { channel: 'COTHER', users: ['UHEAD2'] });
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  it('every append path advances the same head: seq gapless, ts strictly increasing', async () => {
    await pool.query(`SELECT * FROM append_event('CHEAD', 'channel_topic', 'UHEAD', '{}', NULL)`);
    await pool.query(`SELECT * FROM post_message('TSEED', 'CHEAD', 'UHEAD', 'one', NULL, false, NULL)`);
    await pool.query(`SELECT * FROM append_events('CHEAD', 'message_deleted', NULL, ARRAY['{}', '{}']::jsonb[])`);
    await pool.query(`SELECT * FROM post_message('TSEED', 'CHEAD', 'UHEAD', 'two', NULL, false, NULL)`);

    const events = (await pool.query<{ seq: string; ts: string }>(`SELECT seq, ts FROM events WHERE channel_id = 'CHEAD' ORDER BY seq`))
      .rows;
    expect(events.map((e) => Number(e.seq))).toEqual([1, 2, 3, 4, 5]);
    for (let i = 1; i < events.length; i++) expect(BigInt(events[i].ts)).toBeGreaterThan(BigInt(events[i - 1].ts));
    const head = (await pool.query(`SELECT head_seq::int, head_ts::text FROM channels WHERE id = 'CHEAD'`)).rows[0];
    expect(head).toEqual({ head_seq: 5, head_ts: events[4].ts });
  });

  it('an append to a channel that does not exist writes nothing', async () => {
    expect((await pool.query(`SELECT * FROM append_event('CNONE', 'channel_topic', 'UHEAD', '{}', NULL)`)).rows).toEqual([]);
    expect((await pool.query(`SELECT * FROM append_events('CNONE', 'channel_topic', NULL, ARRAY['{}']::jsonb[])`)).rows).toEqual([]);
    expect((await pool.query(`SELECT count(*)::int AS n FROM events WHERE channel_id = 'CNONE'`)).rows).toEqual([{ n: 0 }]);
  });

  it.each([
    [
      // (data_keys names its channel without a foreign key: a reference table on Citus cannot point
      // into the distributed channels; its writer holds the channel's lock. Its workspace is checked.)
      'a data key of a workspace that does not exist',
      `INSERT INTO data_keys (workspace_id, channel_id, window_start, key_version, key_ref, wrapped) VALUES ('TNONE', 'CHEAD', '2026-11-29', 1, 'v1', '\\x00')`,
      'data_keys_workspace_id_fkey',
    ],
    [
      'a member who is not a user',
      `INSERT INTO channel_members (channel_id, user_id, joined_seq) VALUES ('CHEAD', 'UNONE', 0)`,
      'channel_members_user_id_fkey',
    ],
    [
      'a channel whose creator is not a user',
      `INSERT INTO channels (id, workspace_id, name, is_private, creator) VALUES ('CBAD', 'TSEED', 'bad', false, 'UNONE')`,
      'channels_creator_fkey',
    ],
    [
      'a member with a negative read marker',
      `INSERT INTO channel_members (channel_id, user_id, joined_seq, last_read) VALUES ('CHEAD', 'UHEAD2', 0, -1)`,
      'channel_members_last_read_check',
    ],
    [
      'a user with an unknown role',
      `INSERT INTO users (id, workspace_id, name, role) VALUES ('UBAD', 'TSEED', 'bad', 'owner')`,
      'users_role_check',
    ],
  ])('the database refuses %s', async (_what, sql, constraint) => {
    await expect(pool.query(sql)).rejects.toMatchObject({ constraint });
  });
});
