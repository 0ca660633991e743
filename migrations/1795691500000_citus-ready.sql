-- One schema for single-node PostgreSQL and for Citus (issue 16, docs/scaling.md). Citus refuses a
-- UNIQUE constraint on a distributed table that does not include its distribution column, a foreign
-- key from a reference table to a distributed one, and it evaluates column defaults on the
-- coordinator (so events.tx_id would be the coordinator's transaction id, not the worker's).

-- Channel names and DM member sets are unique per workspace. channels is distributed by id, so the
-- uniqueness moves to a small table keyed by workspace (a reference table on Citus), written in the
-- transaction that creates or renames the channel.
CREATE TABLE channel_keys (
  workspace_id  text NOT NULL REFERENCES workspaces(id),
  kind          text NOT NULL CHECK (kind IN ('name', 'members')),   -- channels.name | channels.member_key
  key           text NOT NULL,
  channel_id    text NOT NULL,
  PRIMARY KEY (workspace_id, kind, key)
);
CREATE INDEX channel_keys_channel ON channel_keys (channel_id);
INSERT INTO channel_keys (workspace_id, kind, key, channel_id) SELECT workspace_id, 'name', name, id FROM channels;
INSERT INTO channel_keys (workspace_id, kind, key, channel_id)
  SELECT workspace_id, 'members', member_key, id FROM channels WHERE member_key IS NOT NULL;

ALTER TABLE channels DROP CONSTRAINT channels_workspace_id_name_key;
CREATE INDEX channels_workspace_name ON channels (workspace_id, name);
DROP INDEX channels_member_key;
CREATE INDEX channels_member_key ON channels (workspace_id, member_key) WHERE member_key IS NOT NULL;

-- data_keys is small and read with every sealed body (a reference table on Citus); channels is not.
ALTER TABLE data_keys DROP CONSTRAINT data_keys_channel_id_fkey;

-- The global cursor's clock domain: the node group whose transaction ids tx_id counts (0 on a single
-- server; on Citus the worker group holding the shard, stamped there by events_stamp_tx()).
-- A consumer keeps one (tx_id, position) per domain and reads each below that node's xmin.
ALTER TABLE events ADD COLUMN tx_node integer NOT NULL DEFAULT 0;
DROP INDEX events_global;
CREATE INDEX events_global ON events (tx_node, tx_id, position);

-- A checkpoint on Citus holds one (tx_id, position) per node group: {"<group>": "<tx_id>-<position>"}.
-- NULL on a single server, where tx_id/position are the whole cursor.
ALTER TABLE checkpoints ADD COLUMN parts jsonb;
