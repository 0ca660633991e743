-- Trigger function of events_no_update / events_no_truncate (channel-streams migration): the log
-- refuses UPDATE, DELETE and TRUNCATE.
CREATE OR REPLACE FUNCTION events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'events are append-only: % is not allowed', TG_OP USING ERRCODE = 'restrict_violation';
END $$;
