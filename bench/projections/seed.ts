import type pg from 'pg';

/**
 * Seeds through the database's own functions (post_message / append_event), so the log, bodies and
 * membership look exactly as the API leaves them, but fast: many posts per statement, one
 * transaction per chunk (like busy writers, each commit its own tx_id range).
 */
export async function seedWorkspace(db: pg.Pool, workspace: string, users: number): Promise<void> {
  await db.query(`INSERT INTO workspaces (id, name) VALUES ($1, 'bench')`, [workspace]);
  await db.query(
    `INSERT INTO users (id, workspace_id, name, role)
     SELECT 'U' || lpad(i::text, 9, '0'), $1, 'u' || i, CASE WHEN i = 0 THEN 'admin' ELSE 'member' END
       FROM generate_series(0, $2 - 1) i`,
    [workspace, users],
  );
}

export const userId = (i: number) => `U${String(i).padStart(9, '0')}`;
export const channelId = (prefix: string, i: number) => `C${prefix}${String(i).padStart(7, '0')}`;

/** Channels `prefix0..n-1`, each with the given member range (user indexes [from, to)). */
export async function seedChannels(
  db: pg.Pool,
  workspace: string,
  prefix: string,
  n: number,
  members: { from: number; to: number },
): Promise<string[]> {
  const ids = Array.from({ length: n }, (_, i) => channelId(prefix, i));
  await db.query(
    `INSERT INTO channels (id, workspace_id, name, is_private, creator)
     SELECT id, $1, lower(id), false, $2 FROM unnest($3::text[]) id`,
    [workspace, userId(members.from), ids],
  );
  await db.query(
    // No join events: joined_seq 0 and its ts 0, as ChannelsRepository.addMember writes for seq 0.
    `INSERT INTO channel_members (channel_id, user_id, joined_seq, joined_ts)
     SELECT c, 'U' || lpad(u::text, 9, '0'), 0, 0 FROM unnest($1::text[]) c, generate_series($2::int, $3::int - 1) u`,
    [ids, members.from, members.to],
  );
  return ids;
}

/**
 * `perChannel` messages in each channel, round-robin over channels, `chunk` posts per transaction.
 * One in ten mentions someone; then 5% are edited and 2% deleted (message_changed / message_deleted
 * events with their body changes, as chat.update and chat.delete do).
 */
export async function seedMessages(
  db: pg.Pool,
  workspace: string,
  channels: string[],
  perChannel: number,
  posters: { from: number; to: number },
  chunk = 2000,
): Promise<number> {
  const total = channels.length * perChannel;
  for (let start = 0; start < total; start += chunk) {
    await db.query(
      `SELECT count(*) FROM (
         SELECT post_message($1, ($2::text[])[1 + i % cardinality($2::text[])],
                  'U' || lpad(($4::int + i % ($5::int - $4::int))::text, 9, '0'),
                  CASE WHEN i % 10 = 0 THEN 'ping <@U' || lpad((i % 50)::text, 9, '0') || '> ' || i
                       WHEN i % 97 = 0 THEN '<!channel> announcement ' || i
                       ELSE 'message number ' || i || ' with some ordinary text in it' END,
                  NULL, false, NULL)
           FROM generate_series($3::int, $3::int + $6::int - 1) i) x`,
      [workspace, channels, start, posters.from, posters.to, Math.min(chunk, total - start)],
    );
  }
  // Edits and deletes, in transactions of their own.
  await db.query(
    `WITH picked AS (
       SELECT channel_id, ts, user_id FROM messages WHERE channel_id = ANY($1) AND seq % 20 = 7
     ), ev AS (
       SELECT p.*, (SELECT a.seq FROM append_event(p.channel_id, 'message_changed', p.user_id, jsonb_build_object('message_ts', p.ts), NULL) a) AS s
         FROM picked p
     )
     UPDATE messages m SET text = 'edited <@U000000001>', edited_ts = m.ts + 1, edited_by = m.user_id
       FROM ev WHERE m.channel_id = ev.channel_id AND m.ts = ev.ts`,
    [channels],
  );
  await db.query(
    `WITH picked AS (
       SELECT channel_id, ts, user_id FROM messages WHERE channel_id = ANY($1) AND seq % 50 = 11
     ), ev AS (
       SELECT p.*, (SELECT a.seq FROM append_event(p.channel_id, 'message_deleted', p.user_id, jsonb_build_object('message_ts', p.ts), NULL) a) AS s
         FROM picked p
     )
     UPDATE messages m SET text = NULL, deleted = true FROM ev WHERE m.channel_id = ev.channel_id AND m.ts = ev.ts`,
    [channels],
  );
  const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM events WHERE channel_id = ANY($1)', [channels]);
  return Number(rows[0].n);
}
