-- How a channel's head moves, shared by append_event and append_events; post_message() moves it by
-- the same rule in its own UPDATE, whose WHERE carries its checks (one statement instead of a locking
-- read and this call). Takes the next p_count positions of the channel's stream and returns the first:
-- seq = head_seq + 1, ts = max(head_ts + 1, now in microseconds); the i-th event (from 0) gets
-- seq + i and ts + i. The UPDATE locks the head row FOR NO KEY UPDATE until commit: appends to one
-- channel exclude each other, while foreign-key checks of rows that reference the channel do not
-- wait; a rolled-back transaction rolls the head back too, so seq stays gapless.
-- No such channel: seq and ts are NULL.
-- plpgsql, not sql: plpgsql keeps the UPDATE's plan for the session, a sql function is planned per call.
-- The clock is read into a variable first: Citus refuses a volatile function (clock_timestamp()) in
-- an UPDATE of a distributed table; greatest(..., head_ts + 1) keeps ts strictly increasing anyway.
CREATE OR REPLACE FUNCTION advance_channel_head(p_channel text, p_count integer, OUT seq bigint, OUT ts bigint)
LANGUAGE plpgsql AS $$
DECLARE
  now_us bigint := (extract(epoch FROM clock_timestamp()) * 1000000)::bigint;
BEGIN
  UPDATE channels c
     SET head_seq = c.head_seq + p_count,
         head_ts = greatest(now_us, c.head_ts + 1) + p_count - 1
   WHERE c.id = p_channel
  RETURNING c.head_seq - p_count + 1, c.head_ts - p_count + 1 INTO seq, ts;
END $$;
