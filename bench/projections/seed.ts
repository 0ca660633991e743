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
 * `perChannel` messages in each channel, round-robin over channels. One in ten mentions someone; then
 * 5% are edited and 2% deleted (message_changed / message_deleted events with their body changes, as
 * chat.update and chat.delete do).
 *
 * One transaction per append, as the API's, committed by a procedure on the server (no round trip
 * each; synchronous_commit off for the seeding connection only). Every append updates its channel's
 * head row, and the versions a transaction leaves behind cannot be pruned before it commits: seeding
 * 2,000 posts per transaction left `channels` at 2,442 pages for 1,102 rows, where appends of one
 * event per transaction stay on their page (heap-only updates, pruned by the next access). The
 * planner prices a lookup in a table that sparse at three heap pages, and client.counts' 1,000
 * channel lookups became bitmap scans that cost a file-size system call each.
 */
export async function seedMessages(
  pool: pg.Pool,
  workspace: string,
  channels: string[],
  perChannel: number,
  posters: { from: number; to: number },
): Promise<number> {
  const db = await pool.connect();
  try {
    await db.query('SET synchronous_commit = off');
    await db.query(
      `CREATE OR REPLACE PROCEDURE pg_temp.seed_posts(p_workspace text, p_channels text[], p_total int, p_from int, p_to int)
       LANGUAGE plpgsql AS $$
       BEGIN
         FOR i IN 0 .. p_total - 1 LOOP
           PERFORM post_message(p_workspace, p_channels[1 + i % cardinality(p_channels)],
                    'U' || lpad((p_from + i % (p_to - p_from))::text, 9, '0'),
                    CASE WHEN i % 10 = 0 THEN 'ping <@U' || lpad((i % 50)::text, 9, '0') || '> ' || i
                         WHEN i % 97 = 0 THEN '<!channel> announcement ' || i
                         ELSE 'message number ' || i || ' with some ordinary text in it' END,
                    NULL, false, NULL);
           COMMIT;
         END LOOP;
       END $$`,
    );
    // Edits (seq % 20 = 7), then deletes (seq % 50 = 11), channel by channel in ts order.
    await db.query(
      `CREATE OR REPLACE PROCEDURE pg_temp.seed_changes(p_channels text[])
       LANGUAGE plpgsql AS $$
       DECLARE
         p record;
       BEGIN
         FOR p IN SELECT channel_id, ts, user_id FROM messages WHERE channel_id = ANY (p_channels) AND seq % 20 = 7 ORDER BY channel_id, ts LOOP
           PERFORM append_event(p.channel_id, 'message_changed', p.user_id, jsonb_build_object('message_ts', p.ts), NULL);
           UPDATE messages m SET text = 'edited <@U000000001>', edited_ts = m.ts + 1, edited_by = m.user_id
            WHERE m.channel_id = p.channel_id AND m.ts = p.ts;
           COMMIT;
         END LOOP;
         FOR p IN SELECT channel_id, ts, user_id FROM messages WHERE channel_id = ANY (p_channels) AND seq % 50 = 11 ORDER BY channel_id, ts LOOP
           PERFORM append_event(p.channel_id, 'message_deleted', p.user_id, jsonb_build_object('message_ts', p.ts), NULL);
           UPDATE messages m SET text = NULL, deleted = true WHERE m.channel_id = p.channel_id AND m.ts = p.ts;
           COMMIT;
         END LOOP;
       END $$`,
    );
    await db.query('CALL pg_temp.seed_posts($1, $2, $3, $4, $5)', [
      workspace,
      channels,
      channels.length * perChannel,
      posters.from,
      posters.to,
    ]);
    await db.query('CALL pg_temp.seed_changes($1)', [channels]);
    await db.query('RESET synchronous_commit');
  } finally {
    db.release();
  }
  const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM events WHERE channel_id = ANY($1)', [channels]);
  return Number(rows[0].n);
}
