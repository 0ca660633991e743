// The Citus switch of migrate (docs/scaling.md, "Citus"). Plain JS beside migrate.mjs, which calls it.
//
// After the table migrations, on a Citus coordinator, every table not distributed yet is distributed:
// - `channels` by `id`, and every table whose primary key starts with `channel_id` by `channel_id`,
//   co-located with `channels` (a channel's head, log, bodies, members and read models share a worker);
// - every other table as a reference table (a copy on each node: workspaces, users, tokens, ...);
// and every plpgsql function with a `p_channel` argument is delegated to the worker that holds that
// channel (create_distributed_function ... colocate_with 'channels'). Tables a later migration adds
// are distributed by the next migrate the same way, so the rule, not a list, decides.

/** @typedef {{ query: (sql: string, params?: unknown[]) => Promise<{ rows: any[] }> }} Client */

/**
 * 'single' or 'citus': what `distribution` asks for ('auto': whether the citus extension is installed).
 * @param {Client} client
 * @param {string} distribution 'auto' | 'single' | 'citus'
 */
export async function resolveDistribution(client, distribution = 'auto') {
  if (distribution === 'single') return 'single';
  const { rows } = await client.query(`SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') AS citus`);
  if (rows[0].citus) return 'citus';
  if (distribution === 'citus') {
    throw new Error(
      'DATABASE_DISTRIBUTION=citus but the database has no citus extension (CREATE EXTENSION citus on every node, then add the workers)',
    );
  }
  return 'single';
}

/**
 * Distributes what is not distributed yet, in one transaction. Foreign keys between the tables are
 * dropped for the duration and re-created (Citus converts a table that references a reference table
 * into a "Citus local" one, which can then no longer be co-located).
 * @param {Client} client
 * @param {(msg: string) => void} log
 */
export async function distribute(client, log = () => {}) {
  const { rows: workers } = await client.query(`SELECT count(*)::int AS n FROM pg_dist_node WHERE groupid <> 0 AND isactive`);
  if (!workers[0].n) throw new Error('citus: the coordinator has no worker nodes (SELECT citus_add_node(host, port) first)');
  const { rows: tables } = await client.query(
    `SELECT c.relname AS name,
            (SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
              WHERE i.indrelid = c.oid AND i.indisprimary) AS first_key
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname <> 'pgmigrations'
        -- not distributed yet; "Citus local" tables (what a foreign key to a reference table makes of a
        -- new local table) are taken back and distributed properly
        AND NOT EXISTS (SELECT 1 FROM pg_dist_partition p WHERE p.logicalrelid = c.oid AND NOT (p.partmethod = 'n' AND p.repmodel = 's'))
      ORDER BY c.relname`,
  );
  if (!tables.length) return [];
  const names = tables.map((t) => t.name);
  await client.query('BEGIN');
  try {
    // Triggers on distributed tables (events' append-only guard, the EKM plaintext guard, the tx stamp)
    // run on the shards; Citus asks to be told that this is intended.
    await client.query(`SET LOCAL citus.enable_unsafe_triggers TO on`);
    await client.query(`SET LOCAL citus.multi_shard_modify_mode TO 'sequential'`);
    const { rows: fks } = await client.query(
      `SELECT conrelid::regclass::text AS tbl, conname, pg_get_constraintdef(oid) AS def
         FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace
          AND (conrelid::regclass::text = ANY($1) OR confrelid::regclass::text = ANY($1))`,
      [names],
    );
    for (const fk of fks) await client.query(`ALTER TABLE ${fk.tbl} DROP CONSTRAINT ${fk.conname}`);
    const { rows: citusLocal } = await client.query(
      `SELECT logicalrelid::text AS name FROM pg_dist_partition WHERE partmethod = 'n' AND repmodel = 's' AND logicalrelid::text = ANY($1)`,
      [names],
    );
    for (const { name } of citusLocal) await client.query(`SELECT undistribute_table($1)`, [name]);
    const perChannel = (t) => t.name === 'channels' || t.first_key === 'channel_id';
    // A publication holds events: Citus re-creates it on the workers once events is distributed.
    for (const t of tables.filter((x) => !perChannel(x))) {
      await client.query(`SELECT create_reference_table($1)`, [t.name]);
      log(`citus: ${t.name} is a reference table`);
    }
    const ordered = tables.filter(perChannel).sort((a, b) => (a.name === 'channels' ? -1 : b.name === 'channels' ? 1 : 0));
    for (const t of ordered) {
      if (t.name === 'channels') await client.query(`SELECT create_distributed_table('channels', 'id')`);
      else await client.query(`SELECT create_distributed_table($1, 'channel_id', colocate_with => 'channels')`, [t.name]);
      log(`citus: ${t.name} is distributed by channel, co-located with channels`);
    }
    if (names.includes('events')) {
      await client.query(`CREATE TRIGGER events_stamp_tx BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION events_stamp_tx()`);
    }
    for (const fk of fks) await client.query(`ALTER TABLE ${fk.tbl} ADD CONSTRAINT ${fk.conname} ${fk.def}`);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
  return names;
}

/**
 * Delegates every function with a `p_channel` argument to the worker holding the channel. Re-run by
 * every migrate: the function files were just re-created (CREATE OR REPLACE keeps the delegation).
 * @param {Client} client
 */
export async function delegateFunctions(client) {
  const { rows } = await client.query(
    `SELECT p.oid::regprocedure::text AS sig
       FROM pg_proc p
      WHERE p.pronamespace = 'public'::regnamespace AND 'p_channel' = ANY(p.proargnames)
        AND NOT EXISTS (SELECT 1 FROM pg_dist_object o WHERE o.classid = 'pg_proc'::regclass AND o.objid = p.oid
                         AND o.distribution_argument_index IS NOT NULL)`,
  );
  for (const { sig } of rows) {
    await client.query(`SELECT create_distributed_function($1, 'p_channel', colocate_with => 'channels')`, [sig]);
  }
  return rows.map((r) => r.sig);
}
