-- Appends one event per element of p_data, in order, to a channel's stream in one statement
-- (retention redactions, EKM announcements): one head advance for all of them.
-- No rows if the channel does not exist or p_data is empty.
CREATE OR REPLACE FUNCTION append_events(p_channel text, p_type text, p_user text, p_data jsonb[])
RETURNS TABLE (seq bigint, ts bigint) LANGUAGE plpgsql AS $$
DECLARE
  head record;
BEGIN
  IF coalesce(cardinality(p_data), 0) = 0 THEN RETURN; END IF;
  head := advance_channel_head(p_channel, cardinality(p_data));
  IF head.seq IS NULL THEN RETURN; END IF;
  RETURN QUERY
    INSERT INTO events AS e (channel_id, seq, ts, type, user_id, data)
    SELECT p_channel, head.seq + d.ord - 1, head.ts + d.ord - 1, p_type, p_user, d.data
      FROM unnest(p_data) WITH ORDINALITY AS d(data, ord)
     ORDER BY d.ord
    RETURNING e.seq, e.ts;
END $$;
