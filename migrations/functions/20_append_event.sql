-- Appends one event to a channel's stream; no row if the channel does not exist.
-- The caller's transaction holds the channel's head row until commit (advance_channel_head).
CREATE OR REPLACE FUNCTION append_event(p_channel text, p_type text, p_user text, p_data jsonb, p_client_msg_id uuid)
RETURNS TABLE (seq bigint, ts bigint) LANGUAGE plpgsql AS $$
DECLARE
  head record;
BEGIN
  head := advance_channel_head(p_channel, 1);
  IF head.seq IS NULL THEN RETURN; END IF;
  INSERT INTO events (channel_id, seq, ts, type, user_id, data, client_msg_id)
  VALUES (p_channel, head.seq, head.ts, p_type, p_user, p_data, p_client_msg_id);
  seq := head.seq; ts := head.ts;
  RETURN NEXT;
END $$;
