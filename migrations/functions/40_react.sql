-- reactions.add / reactions.remove in one round trip, like post_message(): the channel rules for
-- reacting (channelPolicy('react'), pinned by test/api/post-message-parity.int.spec.ts) run under
-- the channel's head-row lock, then the reaction row and its event are written. A reaction is a
-- hot-message operation (many people, one message), so the lock is held for one statement batch.
-- Returns an error code instead of raising; nothing is written on a refusal.
CREATE OR REPLACE FUNCTION react(
  p_workspace text, p_channel text, p_user text, p_ts bigint, p_name text, p_add boolean, p_max_names int)
RETURNS TABLE (error text, seq bigint, ts bigint)
LANGUAGE plpgsql AS $$
DECLARE
  ch record;
  msg record;
  head record;
BEGIN
  -- The channel's append lock, taken before anything gives this transaction its id: appends to one
  -- channel then get increasing transaction ids in seq order, so the global cursor (tx_id, position)
  -- delivers every channel in seq order. (A row lock takes the id before it waits; this lock does
  -- not.) A router query on Citus: it runs on the worker holding the channel.
  PERFORM pg_advisory_xact_lock(hashtext(c.id)) FROM channels c WHERE c.id = p_channel;
  SELECT c.is_private, c.is_archived,
         -- p_channel, not c.id: Citus routes (and locks) a query only when every table is filtered on the channel
         EXISTS (SELECT 1 FROM channel_members m WHERE m.channel_id = p_channel AND m.user_id = p_user) AS is_member
    INTO ch
    FROM channels c
   WHERE c.id = p_channel AND c.workspace_id = p_workspace
     FOR NO KEY UPDATE OF c;
  IF NOT FOUND OR (ch.is_private AND NOT ch.is_member) THEN error := 'channel_not_found'; RETURN NEXT; RETURN; END IF;
  -- Analysts are read-only (channelPolicy).
  IF EXISTS (SELECT 1 FROM users u WHERE u.id = p_user AND u.role = 'analyst') THEN error := 'restricted_action'; RETURN NEXT; RETURN; END IF;
  IF ch.is_archived THEN error := 'is_archived'; RETURN NEXT; RETURN; END IF;
  IF NOT ch.is_member THEN error := 'not_in_channel'; RETURN NEXT; RETURN; END IF;
  SELECT m.user_id INTO msg FROM messages m WHERE m.channel_id = p_channel AND m.ts = p_ts AND NOT m.deleted;
  IF NOT FOUND THEN error := 'message_not_found'; RETURN NEXT; RETURN; END IF;

  IF p_add THEN
    IF EXISTS (SELECT 1 FROM reactions r WHERE r.channel_id = p_channel AND r.message_ts = p_ts AND r.name = p_name AND r.user_id = p_user) THEN
      error := 'already_reacted'; RETURN NEXT; RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM reactions r WHERE r.channel_id = p_channel AND r.message_ts = p_ts AND r.name = p_name)
       AND (SELECT count(DISTINCT r.name) FROM reactions r WHERE r.channel_id = p_channel AND r.message_ts = p_ts) >= p_max_names THEN
      error := 'too_many_reactions'; RETURN NEXT; RETURN;
    END IF;
  ELSIF NOT EXISTS (SELECT 1 FROM reactions r WHERE r.channel_id = p_channel AND r.message_ts = p_ts AND r.name = p_name AND r.user_id = p_user) THEN
    error := 'no_reaction'; RETURN NEXT; RETURN;
  END IF;

  head := advance_channel_head(p_channel, 1);
  seq := head.seq; ts := head.ts;
  INSERT INTO events (channel_id, seq, ts, type, user_id, data)
  VALUES (p_channel, seq, ts, CASE WHEN p_add THEN 'reaction_added' ELSE 'reaction_removed' END, p_user,
          jsonb_build_object('reaction', p_name, 'item_ts', p_ts, 'item_user', msg.user_id));
  IF p_add THEN
    INSERT INTO reactions (channel_id, message_ts, name, user_id, seq) VALUES (p_channel, p_ts, p_name, p_user, seq);
  ELSE
    DELETE FROM reactions r WHERE r.channel_id = p_channel AND r.message_ts = p_ts AND r.name = p_name AND r.user_id = p_user;
  END IF;
  RETURN NEXT;
END $$;
