-- Up Migration

-- A thread whose parent was deleted stays open while it has replies (the parent shows as a
-- tombstone), so replying to it must work as replying to any of its replies does.
CREATE OR REPLACE FUNCTION post_message(
  p_workspace text, p_channel text, p_user text, p_text text,
  p_thread_ts bigint, p_reply_broadcast boolean, p_client_msg_id uuid,
  p_body_enc bytea DEFAULT NULL, p_data_key_id bigint DEFAULT NULL)
RETURNS TABLE (error text, seq bigint, ts bigint, thread_ts bigint, duplicate boolean)
LANGUAGE plpgsql AS $$
DECLARE
  ch record;
  found_event record;
  parent record;
  is_member boolean;
  appended record;
BEGIN
  SELECT c.is_private, c.is_archived INTO ch
    FROM channels c WHERE c.id = p_channel AND c.workspace_id = p_workspace FOR UPDATE;
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'channel_not_found', NULL::bigint, NULL::bigint, NULL::bigint, false; RETURN;
  END IF;
  is_member := EXISTS (SELECT 1 FROM channel_members m WHERE m.channel_id = p_channel AND m.user_id = p_user);
  IF ch.is_private AND NOT is_member THEN
    RETURN QUERY SELECT 'channel_not_found', NULL::bigint, NULL::bigint, NULL::bigint, false; RETURN;
  END IF;
  IF p_client_msg_id IS NOT NULL THEN
    SELECT e.seq, e.ts, (e.data->>'thread_ts')::bigint AS thread_ts INTO found_event
      FROM events e WHERE e.channel_id = p_channel AND e.client_msg_id = p_client_msg_id;
    IF FOUND THEN
      RETURN QUERY SELECT NULL::text, found_event.seq, found_event.ts, found_event.thread_ts, true; RETURN;
    END IF;
  END IF;
  IF ch.is_archived THEN
    RETURN QUERY SELECT 'is_archived', NULL::bigint, NULL::bigint, NULL::bigint, false; RETURN;
  END IF;
  IF NOT is_member THEN
    RETURN QUERY SELECT 'not_in_channel', NULL::bigint, NULL::bigint, NULL::bigint, false; RETURN;
  END IF;
  -- An EKM workspace stores no plaintext body: a writer with a stale view of the setting is told to seal.
  IF p_body_enc IS NULL AND EXISTS (SELECT 1 FROM ekm_workspaces w WHERE w.workspace_id = p_workspace) THEN
    RETURN QUERY SELECT 'ekm_required', NULL::bigint, NULL::bigint, NULL::bigint, false; RETURN;
  END IF;
  IF p_thread_ts IS NOT NULL THEN
    -- Replying to a reply replies to its thread, as Slack does.
    SELECT coalesce(m.thread_ts, m.ts) AS root INTO parent
      FROM messages m WHERE m.channel_id = p_channel AND m.ts = p_thread_ts AND (NOT m.deleted OR m.reply_count > 0);
    IF NOT FOUND THEN
      RETURN QUERY SELECT 'thread_not_found', NULL::bigint, NULL::bigint, NULL::bigint, false; RETURN;
    END IF;
    p_thread_ts := parent.root;
  END IF;

  SELECT a.seq, a.ts INTO appended FROM append_event(
    p_channel, 'message', p_user,
    jsonb_strip_nulls(jsonb_build_object('thread_ts', p_thread_ts,
                                         'reply_broadcast', CASE WHEN p_reply_broadcast THEN true END)),
    p_client_msg_id) a;
  INSERT INTO messages (channel_id, seq, ts, user_id, text, body_enc, data_key_id, thread_ts, reply_broadcast, client_msg_id)
  VALUES (p_channel, appended.seq, appended.ts, p_user, CASE WHEN p_body_enc IS NULL THEN p_text END, p_body_enc, p_data_key_id,
          p_thread_ts, coalesce(p_reply_broadcast, false), p_client_msg_id);
  IF p_thread_ts IS NOT NULL THEN
    UPDATE messages m SET reply_count = m.reply_count + 1, latest_reply = appended.ts
     WHERE m.channel_id = p_channel AND m.ts = p_thread_ts;
  END IF;
  RETURN QUERY SELECT NULL::text, appended.seq, appended.ts, p_thread_ts, false;
END $$;

-- Down Migration
-- Forward-only: the previous definition is in 1795689610753_ekm.sql.
