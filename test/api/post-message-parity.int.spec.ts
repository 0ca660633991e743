import pg from 'pg';
import { channelPolicy } from '../../src/domain/channel-policy.js';
import type { Role } from '../../src/domain/user.js';
import { StreamTransaction } from '../../src/event-store/event-store.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

// post_message() (plpgsql, the one-round-trip hot path) applies the `post` rules itself. This pins
// it to channelPolicy('post'): every case runs through both, on real rows, and must come out the
// same (allowed, or the same Slack error code). A refused post writes nothing. Outside the channel
// rules, post_message() also answers a client_msg_id retry of the caller's own post with the stored
// message (after the access checks: a retry never bypasses them), ekm_required and thread_not_found.

type Head = 'missing' | 'other-workspace' | 'public' | 'private' | 'public-archived' | 'private-archived' | 'im' | 'mpim';
const HEADS: Head[] = ['missing', 'other-workspace', 'public', 'private', 'public-archived', 'private-archived', 'im', 'mpim'];
const ROLES: Role[] = ['member', 'admin', 'analyst'];
const WS = 'TPARITY';

const dm = (head: Head) => head === 'im' || head === 'mpim';

// A missing channel has no members; every other head is tried with and without the caller in it.
const cases = HEADS.flatMap((head) =>
  (head === 'missing' ? [false] : [true, false]).flatMap((member) => ROLES.map((role) => ({ head, member, role }))),
);

describe('post_message() and channelPolicy("post") agree', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  const seen = new Set<string>();

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    await pool.query(`INSERT INTO workspaces (id, name) VALUES ($1, 'parity'), ('TELSEWHERE', 'elsewhere')`, [WS]);
    await pool.query(`INSERT INTO users (id, workspace_id, name, role) VALUES ('UCREATOR', $1, 'creator', 'member')`, [WS]);
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  /** A channel and a caller as the case describes them; returns their ids. */
  async function given(n: number, c: (typeof cases)[number]) {
    const user = `UP${n}`;
    const channel = `CP${n}`;
    await pool.query(`INSERT INTO users (id, workspace_id, name, role) VALUES ($1, $2, lower($1), $3)`, [user, WS, c.role]);
    if (c.head !== 'missing') {
      await pool.query(
        `INSERT INTO channels (id, workspace_id, name, is_private, is_archived, creator, kind, member_key)
         VALUES ($1, $2, lower($1), $3, $4, 'UCREATOR', $5, $6)`,
        [
          channel,
          c.head === 'other-workspace' ? 'TELSEWHERE' : WS,
          c.head.startsWith('private') || dm(c.head),
          c.head.endsWith('archived'),
          dm(c.head) ? c.head : 'channel',
          // A DM row as conversations.open writes it (private, its members' key).
          dm(c.head) ? `UCREATOR,${user}` : null,
        ],
      );
      if (c.member) await pool.query('INSERT INTO channel_members (channel_id, user_id, joined_seq) VALUES ($1, $2, 0)', [channel, user]);
    }
    return { user, channel };
  }

  /** The facts as the TypeScript side reads them (the channel lock, then the membership row). */
  async function policyOutcome(channel: string, user: string, role: Role, action: 'post' | 'react' = 'post'): Promise<string> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const head = await new StreamTransaction(client).lockChannel(channel, WS);
      const member =
        (await client.query('SELECT 1 FROM channel_members WHERE channel_id = $1 AND user_id = $2', [channel, user])).rowCount === 1;
      const decision = channelPolicy(action, { head, caller: { id: user, role }, member });
      return decision.allowed ? 'allowed' : decision.error;
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  }

  async function sqlOutcome(channel: string, user: string): Promise<string> {
    const { rows } = await pool.query<{ error: string | null }>(`SELECT error FROM post_message($1, $2, $3, 'parity', NULL, false, NULL)`, [
      WS,
      channel,
      user,
    ]);
    return rows[0].error ?? 'allowed';
  }

  const written = async (channel: string) =>
    (
      await pool.query<{ n: number }>(
        'SELECT (SELECT count(*) FROM events WHERE channel_id = $1) + (SELECT count(*) FROM messages WHERE channel_id = $1) AS n',
        [channel],
      )
    ).rows[0].n;

  it.each(cases.map((c, i) => [`${c.head} channel, ${c.member ? 'member' : 'not a member'}, ${c.role}`, i, c] as const))(
    '%s',
    async (_, i, c) => {
      const { user, channel } = await given(i, c);
      const policy = await policyOutcome(channel, user, c.role);
      const sql = await sqlOutcome(channel, user);
      expect({ sql }).toEqual({ sql: policy });
      expect(Number(await written(channel))).toBe(policy === 'allowed' ? 2 : 0);
      seen.add(sql);
    },
  );

  it('the cases cover every outcome of post: allowed and each refusal', () => {
    expect([...seen].sort()).toEqual(['allowed', 'channel_not_found', 'is_archived', 'not_in_channel', 'restricted_action']);
  });

  // react() (reactions.add/remove, plpgsql for the hot message) applies channelPolicy('react') the same way.
  const reacted = new Set<string>();
  it.each(cases.map((c, i) => [`react: ${c.head} channel, ${c.member ? 'member' : 'not a member'}, ${c.role}`, i, c] as const))(
    '%s',
    async (_, i, c) => {
      const { user, channel } = await given(1000 + i, c);
      if (c.head !== 'missing') {
        await pool.query(`INSERT INTO messages (channel_id, seq, ts, user_id, text) VALUES ($1, 0, 1, 'UCREATOR', 'target')`, [channel]);
      }
      const policy = await policyOutcome(channel, user, c.role, 'react');
      const { rows } = await pool.query<{ error: string | null }>(`SELECT error FROM react($1, $2, $3, 1, 'eyes', true, 50)`, [
        WS,
        channel,
        user,
      ]);
      const sql = rows[0].error ?? 'allowed';
      expect({ sql }).toEqual({ sql: policy });
      const events = await pool.query('SELECT 1 FROM events WHERE channel_id = $1', [channel]);
      const reactions = await pool.query('SELECT 1 FROM reactions WHERE channel_id = $1', [channel]);
      expect([events.rowCount, reactions.rowCount]).toEqual(policy === 'allowed' ? [1, 1] : [0, 0]);
      reacted.add(sql);
    },
  );

  it('the react cases cover every outcome: allowed and each refusal', () => {
    expect([...reacted].sort()).toEqual(['allowed', 'channel_not_found', 'is_archived', 'not_in_channel', 'restricted_action']);
  });
});
