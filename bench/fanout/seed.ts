// The data of bench:fanout: a poster, one big channel, many two-member channels, and a channel with
// a backlog of missed events for the catch-up.
import pg from 'pg';
import { newChannelId, newUserId, newWorkspaceId } from '../../src/domain/ids.js';
import { issueToken } from '../../src/workspaces/tokens.js';

export interface Seeded {
  workspace: string;
  poster: { id: string; token: string };
  big: { channel: string; users: Array<{ id: string; token: string }> };
  many: Array<{ channel: string; user: { id: string; token: string } }>;
  catchup: { channel: string; user: { id: string; token: string } };
}

export async function seed(url: string, sizes: { bigUsers: number; manyChannels: number; catchup: number }): Promise<Seeded> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const workspace = newWorkspaceId();
    await db.query('INSERT INTO workspaces (id, name) VALUES ($1, $2)', [workspace, 'bench-fanout']);
    let n = 0;
    const user = async () => {
      const id = newUserId();
      const token = issueToken();
      await db.query('INSERT INTO users (id, workspace_id, name, role) VALUES ($1, $2, $3, $4)', [id, workspace, `fan${n++}`, 'member']);
      await db.query('INSERT INTO tokens (id, user_id, secret_hash) VALUES ($1, $2, $3)', [token.id, id, token.secretHash]);
      return { id, token: token.token };
    };
    const channel = async (members: string[]) => {
      const id = newChannelId();
      await db.query(`INSERT INTO channels (id, workspace_id, name, is_private, creator) VALUES ($1, $2, $3, false, $4)`, [
        id,
        workspace,
        `fan-${id.toLowerCase()}`,
        members[0],
      ]);
      await db.query('INSERT INTO channel_members (channel_id, user_id, joined_seq) SELECT $1, u, 0 FROM unnest($2::text[]) u', [
        id,
        members,
      ]);
      return id;
    };
    const poster = await user();
    const bigUsers = [];
    for (let i = 0; i < sizes.bigUsers; i++) bigUsers.push(await user());
    const big = { channel: await channel([poster.id, ...bigUsers.map((u) => u.id)]), users: bigUsers };
    const many = [];
    for (let i = 0; i < sizes.manyChannels; i++) {
      const u = await user();
      many.push({ channel: await channel([poster.id, u.id]), user: u });
    }
    const catchUser = await user();
    const catchChannel = await channel([poster.id, catchUser.id]);
    await db.query(`SELECT post_message($1, $2, $3, 'catch-up ' || i, NULL, false, NULL) FROM generate_series(1, $4::int) i`, [
      workspace,
      catchChannel,
      poster.id,
      sizes.catchup,
    ]);
    await db.query('ANALYZE');
    return { workspace, poster, big, many, catchup: { channel: catchChannel, user: catchUser } };
  } finally {
    await db.end();
  }
}
