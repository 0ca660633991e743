-- Up Migration

-- Workspaces, users and their tokens.
CREATE TABLE workspaces (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
  id            text PRIMARY KEY,
  workspace_id  text NOT NULL REFERENCES workspaces(id),
  name          text NOT NULL,
  real_name     text NOT NULL DEFAULT '',
  role          text NOT NULL CHECK (role IN ('member', 'admin', 'analyst')),
  deleted       boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (workspace_id, name)
);

-- A token is "xoxp-<id>-<secret>"; only sha256(secret) is kept, compared in constant time in code.
CREATE TABLE tokens (
  id           text PRIMARY KEY,
  user_id      text NOT NULL REFERENCES users(id),
  secret_hash  bytea NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz
);
CREATE INDEX tokens_user ON tokens(user_id);

-- The channel's head row is the append lock: seq and ts are taken from it under FOR UPDATE.
CREATE TABLE channels (
  id            text PRIMARY KEY,
  workspace_id  text NOT NULL REFERENCES workspaces(id),
  name          text NOT NULL,
  is_private    boolean NOT NULL,
  is_archived   boolean NOT NULL DEFAULT false,
  creator       text NOT NULL,
  topic         text NOT NULL DEFAULT '',
  purpose       text NOT NULL DEFAULT '',
  created_at    timestamptz NOT NULL DEFAULT now(),
  head_seq      bigint NOT NULL DEFAULT 0,
  head_ts       bigint NOT NULL DEFAULT 0,   -- microseconds; Slack ts = head_ts / 1e6 with 6 digits
  UNIQUE (workspace_id, name)
);

-- The log. Append-only: rows are only ever inserted, through append_event().
CREATE TABLE events (
  channel_id     text NOT NULL,
  seq            bigint NOT NULL,
  ts             bigint NOT NULL,
  type           text NOT NULL,
  user_id        text,
  data           jsonb NOT NULL DEFAULT '{}',
  client_msg_id  uuid,
  -- Global cursor: (tx_id, position), read only below pg_snapshot_xmin so late commits are never skipped.
  tx_id          xid8 NOT NULL DEFAULT pg_current_xact_id(),
  position       bigint GENERATED ALWAYS AS IDENTITY,
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (channel_id, seq)
);
CREATE UNIQUE INDEX events_client_msg_id ON events(channel_id, client_msg_id) WHERE client_msg_id IS NOT NULL;
CREATE INDEX events_global ON events(tx_id, position);

CREATE FUNCTION events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'events are append-only: % is not allowed', TG_OP USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER events_no_update BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION events_are_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();

-- Message bodies and thread state, keyed by the (channel_id, seq) of the event that posted them.
-- Edits, deletes, retention and encryption change rows here; the log never changes.
CREATE TABLE messages (
  channel_id       text NOT NULL,
  seq              bigint NOT NULL,
  ts               bigint NOT NULL,
  user_id          text NOT NULL,
  text             text,
  thread_ts        bigint,            -- null for top-level messages
  reply_broadcast  boolean NOT NULL DEFAULT false,
  reply_count      integer NOT NULL DEFAULT 0,
  latest_reply     bigint,
  edited_ts        bigint,
  edited_by        text,
  client_msg_id    uuid,
  deleted          boolean NOT NULL DEFAULT false,
  PRIMARY KEY (channel_id, seq),
  UNIQUE (channel_id, ts)
);
CREATE INDEX messages_thread ON messages(channel_id, thread_ts, ts) WHERE thread_ts IS NOT NULL;

-- Inline membership view used for authorization, maintained by the same transaction as the event.
CREATE TABLE channel_members (
  channel_id  text NOT NULL REFERENCES channels(id),
  user_id     text NOT NULL REFERENCES users(id),
  joined_seq  bigint NOT NULL,
  last_read   bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX channel_members_user ON channel_members(user_id, channel_id);

-- Checkpoints of global-cursor consumers.
CREATE TABLE checkpoints (
  name        text PRIMARY KEY,
  tx_id       xid8 NOT NULL,
  position    bigint NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Takes the next seq and ts from the channel head (row-locked until commit) and inserts the event.
-- A rolled-back transaction rolls the head back too, so seq stays gapless.
CREATE FUNCTION append_event(p_channel text, p_type text, p_user text, p_data jsonb, p_client_msg_id uuid)
RETURNS TABLE (seq bigint, ts bigint) LANGUAGE sql AS $$
  WITH head AS (
    UPDATE channels
       SET head_seq = head_seq + 1,
           head_ts = greatest((extract(epoch FROM clock_timestamp()) * 1000000)::bigint, head_ts + 1)
     WHERE id = p_channel
    RETURNING head_seq, head_ts
  )
  INSERT INTO events (channel_id, seq, ts, type, user_id, data, client_msg_id)
  SELECT p_channel, head.head_seq, head.head_ts, p_type, p_user, p_data, p_client_msg_id FROM head
  RETURNING events.seq, events.ts
$$;

-- chat.postMessage in one round trip: every check that must agree with the append runs under the
-- channel lock. Returns an error code instead of raising, so a refused post costs no exception.
CREATE FUNCTION post_message(
  p_workspace text, p_channel text, p_user text, p_text text,
  p_thread_ts bigint, p_reply_broadcast boolean, p_client_msg_id uuid)
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
  IF p_thread_ts IS NOT NULL THEN
    -- Replying to a reply replies to its thread, as Slack does.
    SELECT coalesce(m.thread_ts, m.ts) AS root INTO parent
      FROM messages m WHERE m.channel_id = p_channel AND m.ts = p_thread_ts AND NOT m.deleted;
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
  INSERT INTO messages (channel_id, seq, ts, user_id, text, thread_ts, reply_broadcast, client_msg_id)
  VALUES (p_channel, appended.seq, appended.ts, p_user, p_text, p_thread_ts, coalesce(p_reply_broadcast, false), p_client_msg_id);
  IF p_thread_ts IS NOT NULL THEN
    UPDATE messages m SET reply_count = m.reply_count + 1, latest_reply = appended.ts
     WHERE m.channel_id = p_channel AND m.ts = p_thread_ts;
  END IF;
  RETURN QUERY SELECT NULL::text, appended.seq, appended.ts, p_thread_ts, false;
END $$;

-- Logical-replication publication so standard CDC tools can consume the log.
CREATE PUBLICATION atomcast_events FOR TABLE events;

-- Down Migration
DROP PUBLICATION IF EXISTS atomcast_events;
DROP FUNCTION post_message;
DROP FUNCTION append_event;
DROP TABLE checkpoints, channel_members, messages, events, channels, tokens, users, workspaces;
DROP FUNCTION events_are_append_only;
