-- Citus only (attached by the distribute step of migrate, src/db/citus.mjs): Citus evaluates column
-- defaults on the coordinator when the coordinator routes an INSERT, so events.tx_id would be the
-- coordinator's transaction id. This trigger runs on the worker's shard and stamps the worker's own
-- transaction id and node group, the clock domain that the global cursor reads below its xmin.
CREATE OR REPLACE FUNCTION events_stamp_tx() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.tx_id := pg_current_xact_id();
  NEW.tx_node := (SELECT groupid FROM pg_dist_local_group);
  RETURN NEW;
END $$;
