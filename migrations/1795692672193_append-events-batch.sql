-- Up Migration

-- Appends n events of one type to a channel in one statement (retention redactions, EKM
-- announcements): seq and ts advance by n under the same head-row lock as append_event().
CREATE FUNCTION append_events(p_channel text, p_type text, p_user text, p_data jsonb[])
RETURNS TABLE (seq bigint, ts bigint) LANGUAGE sql AS $$
  WITH head AS (
    UPDATE channels
       SET head_seq = head_seq + cardinality(p_data),
           head_ts = greatest((extract(epoch FROM clock_timestamp()) * 1000000)::bigint, head_ts + 1) + cardinality(p_data) - 1
     WHERE id = p_channel
    RETURNING head_seq - cardinality(p_data) AS before_seq, head_ts - cardinality(p_data) AS before_ts
  )
  INSERT INTO events (channel_id, seq, ts, type, user_id, data)
  SELECT p_channel, head.before_seq + d.ord, head.before_ts + d.ord, p_type, p_user, d.data
    FROM head, unnest(p_data) WITH ORDINALITY AS d(data, ord)
   ORDER BY d.ord
  RETURNING events.seq, events.ts
$$;

-- Down Migration
DROP FUNCTION append_events;
