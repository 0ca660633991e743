import type { Queryable } from '../../src/db/database.js';

/**
 * Raw rows for event-store tests: a workspace, users, and a channel whose members are inserted
 * directly (no membership events), so the channel's stream holds only what the test appends.
 */
export async function seedChannel(db: Queryable, opts: { channel?: string; users?: string[]; isPrivate?: boolean } = {}) {
  const workspace = 'TSEED';
  const channel = opts.channel ?? 'CSEED';
  const users = opts.users ?? ['USEED'];
  await db.query(`INSERT INTO workspaces (id, name) VALUES ($1, 'seed') ON CONFLICT DO NOTHING`, [workspace]);
  for (const user of users) {
    await db.query(`INSERT INTO users (id, workspace_id, name, role) VALUES ($1, $2, lower($1), 'member') ON CONFLICT DO NOTHING`, [
      user,
      workspace,
    ]);
  }
  await db.query(`INSERT INTO channels (id, workspace_id, name, is_private, creator) VALUES ($1, $2, lower($1), $3, $4)`, [
    channel,
    workspace,
    opts.isPrivate ?? false,
    users[0],
  ]);
  for (const user of users)
    await db.query('INSERT INTO channel_members (channel_id, user_id, joined_seq) VALUES ($1, $2, 0)', [channel, user]);
  return { workspace, channel, users };
}
