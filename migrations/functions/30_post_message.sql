-- chat.postMessage in one round trip: every check that must agree with the append runs under the
-- channel's append lock, in the UPDATE that takes the head row, then the event and the body are
-- written. Returns an error code instead of raising, so a refused post costs no exception. The hot
-- path: bench:append measures it.
-- p_rich: blocks, attachments, subtype and a bot's identity, stored in clear beside the text (an EKM
-- body carries them sealed in p_body_enc instead), so a bot's or a Block Kit post is one round trip too.
-- The signature before p_rich: a second overload would make every call with defaults ambiguous.
DROP FUNCTION IF EXISTS post_message(text, text, text, text, bigint, boolean, uuid, bytea, bigint);
CREATE OR REPLACE FUNCTION post_message(
  p_workspace text, p_channel text, p_user text, p_text text,
  p_thread_ts bigint, p_reply_broadcast boolean, p_client_msg_id uuid,
  p_body_enc bytea DEFAULT NULL, p_data_key_id bigint DEFAULT NULL, p_rich jsonb DEFAULT NULL)
RETURNS TABLE (error text, seq bigint, ts bigint, thread_ts bigint, duplicate boolean)
LANGUAGE plpgsql AS $$
DECLARE
  ch record;
  found_event record;
  root bigint;
  now_us bigint;
BEGIN
  duplicate := false;
  -- The channel's append lock, taken before anything gives this transaction its id: appends to one
  -- channel then get increasing transaction ids in seq order, so the global cursor (tx_id, position)
  -- delivers every channel in seq order. (A row lock takes the id before it waits; this lock does
  -- not.) A router query on Citus: it runs on the worker holding the channel.
  -- Every writer of what the checks below read (membership, archiving, EKM) holds it too, so the
  -- next statement's snapshot sees the channel as it stays until commit.
  PERFORM pg_advisory_xact_lock(hashtext(c.id)) FROM channels c WHERE c.id = p_channel;
  IF p_thread_ts IS NOT NULL THEN
    -- Replying to a reply replies to its thread, as Slack does; a deleted parent with replies is a
    -- tombstone. No root: the post is refused below (thread_not_found, after the access checks).
    SELECT coalesce(m.thread_ts, m.ts) INTO root
      FROM messages m WHERE m.channel_id = p_channel AND m.ts = p_thread_ts AND (NOT m.deleted OR m.reply_count > 0);
  END IF;
  LOOP
    -- The append, with every check in the WHERE of the head row's UPDATE: one statement where a
    -- locking read and advance_channel_head() took two (measured: bench:append (b)). The head moves
    -- as advance_channel_head() moves it (one position); the clock is read into a variable, as there.
    -- p_channel and p_workspace, not c.id and c.workspace_id, in the sub-selects: uncorrelated, each
    -- runs once, and on Citus every table is filtered on the channel (a router query).
    now_us := (extract(epoch FROM clock_timestamp()) * 1000000)::bigint;
    UPDATE channels c
       SET head_seq = c.head_seq + 1, head_ts = greatest(now_us, c.head_ts + 1)
     WHERE c.id = p_channel AND c.workspace_id = p_workspace AND NOT c.is_archived
       AND EXISTS (SELECT 1 FROM channel_members m WHERE m.channel_id = p_channel AND m.user_id = p_user)
       AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = p_user AND u.role = 'analyst')
       AND (p_client_msg_id IS NULL OR NOT EXISTS (
             SELECT 1 FROM events e WHERE e.channel_id = p_channel AND e.user_id = p_user AND e.client_msg_id = p_client_msg_id))
       AND (p_body_enc IS NOT NULL OR NOT EXISTS (SELECT 1 FROM ekm_workspaces w WHERE w.workspace_id = p_workspace))
       AND (p_thread_ts IS NULL OR root IS NOT NULL)
    RETURNING c.head_seq, c.head_ts INTO seq, ts;
    EXIT WHEN FOUND;
    -- Refused, nothing written: the checks one at a time, in the order that picks the answer.
    SELECT c.is_private, c.is_archived, w.workspace_id IS NOT NULL AS ekm,
           EXISTS (SELECT 1 FROM channel_members m WHERE m.channel_id = p_channel AND m.user_id = p_user) AS is_member,
           EXISTS (SELECT 1 FROM users u WHERE u.id = p_user AND u.role = 'analyst') AS is_analyst
      INTO ch
      FROM channels c LEFT JOIN ekm_workspaces w ON w.workspace_id = c.workspace_id
     WHERE c.id = p_channel AND c.workspace_id = p_workspace;
    IF NOT FOUND OR (ch.is_private AND NOT ch.is_member) THEN
      error := 'channel_not_found'; RETURN NEXT; RETURN;
    END IF;
    -- Analysts are read-only (channelPolicy).
    IF ch.is_analyst THEN
      error := 'restricted_action'; RETURN NEXT; RETURN;
    END IF;
    IF ch.is_archived THEN error := 'is_archived'; RETURN NEXT; RETURN; END IF;
    IF NOT ch.is_member THEN error := 'not_in_channel'; RETURN NEXT; RETURN; END IF;
    -- A retry of the caller's own post (same client_msg_id) answers with the stored message. Only after
    -- the access checks, and only the caller's own: another author's id never answers for them.
    IF p_client_msg_id IS NOT NULL THEN
      SELECT e.seq, e.ts, (e.data->>'thread_ts')::bigint AS thread_ts INTO found_event
        FROM events e WHERE e.channel_id = p_channel AND e.user_id = p_user AND e.client_msg_id = p_client_msg_id;
      IF FOUND THEN
        seq := found_event.seq; ts := found_event.ts; thread_ts := found_event.thread_ts; duplicate := true;
        RETURN NEXT; RETURN;
      END IF;
    END IF;
    -- An EKM workspace stores no plaintext body: a writer with a stale view of the setting is told to seal.
    IF p_body_enc IS NULL AND ch.ekm THEN error := 'ekm_required'; RETURN NEXT; RETURN; END IF;
    IF p_thread_ts IS NOT NULL AND root IS NULL THEN error := 'thread_not_found'; RETURN NEXT; RETURN; END IF;
    -- Every check passes now: what the UPDATE read changed in between (a user's role is not under
    -- the channel lock). Try again.
  END LOOP;
  p_thread_ts := root;
  -- The UPDATE found the workspace without EKM, and the append lock keeps it so until commit: the
  -- EKM guard on messages need not look again at this channel's rows in this transaction
  -- (migrations/1795693300000_ekm-guard-skips-checked-posts.sql).
  IF p_body_enc IS NULL THEN
    PERFORM set_config('atomcast.ekm_off_channel', p_channel, true);
  END IF;
  INSERT INTO events (channel_id, seq, ts, type, user_id, data, client_msg_id)
  VALUES (p_channel, seq, ts, 'message', p_user,
          CASE WHEN p_thread_ts IS NULL THEN '{}'::jsonb
               ELSE jsonb_strip_nulls(jsonb_build_object('thread_ts', p_thread_ts,
                                                         'reply_broadcast', CASE WHEN p_reply_broadcast THEN true END)) END,
          p_client_msg_id);
  INSERT INTO messages (channel_id, seq, ts, user_id, text, rich, body_enc, data_key_id, thread_ts, reply_broadcast, client_msg_id)
  VALUES (p_channel, seq, ts, p_user, CASE WHEN p_body_enc IS NULL THEN p_text END, CASE WHEN p_body_enc IS NULL THEN p_rich END,
          p_body_enc, p_data_key_id, p_thread_ts, coalesce(p_reply_broadcast, false), p_client_msg_id);
  IF p_thread_ts IS NOT NULL THEN
    UPDATE messages m SET reply_count = m.reply_count + 1, latest_reply = post_message.ts
     WHERE m.channel_id = p_channel AND m.ts = p_thread_ts;
  END IF;
  thread_ts := p_thread_ts;
  RETURN NEXT;
END $$;
