CREATE FUNCTION public.advance_channel_head(p_channel text, p_count integer, OUT seq bigint, OUT ts bigint) RETURNS record
    LANGUAGE plpgsql
    AS $$
DECLARE
  now_us bigint := (extract(epoch FROM clock_timestamp()) * 1000000)::bigint;
BEGIN
  UPDATE channels c
     SET head_seq = c.head_seq + p_count,
         head_ts = greatest(now_us, c.head_ts + 1) + p_count - 1
   WHERE c.id = p_channel
  RETURNING c.head_seq - p_count + 1, c.head_ts - p_count + 1 INTO seq, ts;
END $$;

CREATE FUNCTION public.append_event(p_channel text, p_type text, p_user text, p_data jsonb, p_client_msg_id uuid) RETURNS TABLE(seq bigint, ts bigint)
    LANGUAGE plpgsql
    AS $$
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

CREATE FUNCTION public.append_events(p_channel text, p_type text, p_user text, p_data jsonb[]) RETURNS TABLE(seq bigint, ts bigint)
    LANGUAGE plpgsql
    AS $$
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

CREATE FUNCTION public.audit_log_is_append_only() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('atomcast.audit_sweep', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP USING ERRCODE = 'restrict_violation';
END $$;

CREATE FUNCTION public.events_are_append_only() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  RAISE EXCEPTION 'events are append-only: % is not allowed', TG_OP USING ERRCODE = 'restrict_violation';
END $$;

CREATE FUNCTION public.events_stamp_tx() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  NEW.tx_id := pg_current_xact_id();
  NEW.tx_node := (SELECT groupid FROM pg_dist_local_group);
  RETURN NEW;
END $$;

CREATE FUNCTION public.files_no_plaintext_in_ekm() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM ekm_workspaces w WHERE w.workspace_id = NEW.workspace_id) THEN
    RAISE EXCEPTION 'ekm_required' USING ERRCODE = 'EK001',
      DETAIL = 'the workspace uses EKM: a file name or title must be stored sealed';
  END IF;
  RETURN NEW;
END $$;

CREATE FUNCTION public.messages_no_plaintext_in_ekm() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM channels c JOIN ekm_workspaces w ON w.workspace_id = c.workspace_id WHERE c.id = NEW.channel_id) THEN
    RAISE EXCEPTION 'ekm_required' USING ERRCODE = 'EK001',
      DETAIL = 'the workspace uses EKM: a message body must be stored sealed';
  END IF;
  RETURN NEW;
END $$;

CREATE FUNCTION public.post_message(p_workspace text, p_channel text, p_user text, p_text text, p_thread_ts bigint, p_reply_broadcast boolean, p_client_msg_id uuid, p_body_enc bytea DEFAULT NULL::bytea, p_data_key_id bigint DEFAULT NULL::bigint, p_rich jsonb DEFAULT NULL::jsonb) RETURNS TABLE(error text, seq bigint, ts bigint, thread_ts bigint, duplicate boolean)
    LANGUAGE plpgsql
    AS $$
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

CREATE FUNCTION public.react(p_workspace text, p_channel text, p_user text, p_ts bigint, p_name text, p_add boolean, p_max_names integer) RETURNS TABLE(error text, seq bigint, ts bigint)
    LANGUAGE plpgsql
    AS $$
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

CREATE FUNCTION public.search_no_plaintext_in_ekm() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM ekm_workspaces w WHERE w.workspace_id = NEW.workspace_id) THEN
    RAISE EXCEPTION 'ekm_required' USING ERRCODE = 'EK001',
      DETAIL = 'the workspace uses EKM: its search index must hold blind tokens';
  END IF;
  RETURN NEW;
END $$;

CREATE TABLE public.app_response_urls (
    id text NOT NULL,
    app_id text NOT NULL,
    channel_id text NOT NULL,
    message_ts bigint NOT NULL,
    user_id text NOT NULL,
    secret_hash bytea NOT NULL,
    uses_left integer DEFAULT 5 NOT NULL,
    expires_at timestamp with time zone NOT NULL
);

CREATE TABLE public.app_socket_tickets (
    ticket_hash bytea NOT NULL,
    token_id text NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    used_at timestamp with time zone
);

CREATE TABLE public.apps (
    id text NOT NULL,
    workspace_id text NOT NULL,
    name text NOT NULL,
    bot_user_id text NOT NULL,
    signing_secret text NOT NULL,
    event_subscriptions text[] DEFAULT '{}'::text[] NOT NULL,
    request_url text,
    interactivity_url text,
    paused_at timestamp with time zone,
    paused_reason text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    uninstalled_at timestamp with time zone
);

CREATE TABLE public.audit_log (
    id bigint NOT NULL,
    at timestamp with time zone DEFAULT now() NOT NULL,
    actor text NOT NULL,
    actor_workspace text,
    action text NOT NULL,
    target_kind text,
    target_id text,
    workspace_id text,
    source_address text,
    outcome text NOT NULL,
    error text,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    CONSTRAINT audit_log_outcome_check CHECK ((outcome = ANY (ARRAY['ok'::text, 'refused'::text])))
);

ALTER TABLE public.audit_log ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.audit_log_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.channel_keys (
    workspace_id text NOT NULL,
    kind text NOT NULL,
    key text NOT NULL,
    channel_id text NOT NULL,
    CONSTRAINT channel_keys_kind_check CHECK ((kind = ANY (ARRAY['name'::text, 'members'::text])))
);

CREATE TABLE public.channel_members (
    channel_id text NOT NULL,
    user_id text NOT NULL,
    joined_seq bigint NOT NULL,
    last_read bigint DEFAULT 0 NOT NULL,
    is_open boolean DEFAULT true NOT NULL,
    joined_ts bigint,
    CONSTRAINT channel_members_joined_seq_check CHECK ((joined_seq >= 0)),
    CONSTRAINT channel_members_joined_ts_check CHECK ((joined_ts >= 0)),
    CONSTRAINT channel_members_last_read_check CHECK ((last_read >= 0))
);

CREATE TABLE public.channels (
    id text NOT NULL,
    workspace_id text NOT NULL,
    name text NOT NULL,
    is_private boolean NOT NULL,
    is_archived boolean DEFAULT false NOT NULL,
    creator text NOT NULL,
    topic text DEFAULT ''::text NOT NULL,
    purpose text DEFAULT ''::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    head_seq bigint DEFAULT 0 NOT NULL,
    head_ts bigint DEFAULT 0 NOT NULL,
    topic_creator text DEFAULT ''::text NOT NULL,
    topic_last_set bigint DEFAULT 0 NOT NULL,
    purpose_creator text DEFAULT ''::text NOT NULL,
    purpose_last_set bigint DEFAULT 0 NOT NULL,
    kind text DEFAULT 'channel'::text NOT NULL,
    member_key text
);

CREATE TABLE public.checkpoints (
    name text NOT NULL,
    tx_id xid8 NOT NULL,
    "position" bigint NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    parts jsonb
);

CREATE TABLE public.custom_emoji (
    workspace_id text NOT NULL,
    name text NOT NULL,
    url text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.data_keys (
    id bigint NOT NULL,
    workspace_id text NOT NULL,
    channel_id text NOT NULL,
    window_start date NOT NULL,
    key_version integer NOT NULL,
    key_ref text NOT NULL,
    wrapped bytea NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT data_keys_key_version_check CHECK ((key_version > 0))
);

ALTER TABLE public.data_keys ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.data_keys_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.ekm_revocations (
    id bigint NOT NULL,
    workspace_id text NOT NULL,
    channel_id text,
    from_ts bigint,
    to_ts bigint,
    created_by text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    restored_at timestamp with time zone
);

ALTER TABLE public.ekm_revocations ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.ekm_revocations_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.ekm_workspaces (
    workspace_id text NOT NULL,
    provider text NOT NULL,
    key_ref text NOT NULL,
    key_version integer DEFAULT 1 NOT NULL,
    enabled_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT ekm_workspaces_key_version_check CHECK ((key_version > 0)),
    CONSTRAINT ekm_workspaces_provider_check CHECK ((provider = ANY (ARRAY['local'::text, 'aws-kms'::text])))
);

CREATE TABLE public.events (
    channel_id text NOT NULL,
    seq bigint NOT NULL,
    ts bigint NOT NULL,
    type text NOT NULL,
    user_id text,
    data jsonb DEFAULT '{}'::jsonb NOT NULL,
    client_msg_id uuid,
    tx_id xid8 DEFAULT pg_current_xact_id() NOT NULL,
    "position" bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    tx_node integer DEFAULT 0 NOT NULL
);

ALTER TABLE public.events ALTER COLUMN "position" ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.events_position_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.files (
    id text NOT NULL,
    workspace_id text NOT NULL,
    user_id text NOT NULL,
    state text DEFAULT 'pending'::text NOT NULL,
    upload_secret bytea NOT NULL,
    name text,
    title text,
    meta_enc bytea,
    declared_size bigint NOT NULL,
    size bigint,
    mimetype text DEFAULT 'application/octet-stream'::text NOT NULL,
    filetype text DEFAULT 'binary'::text NOT NULL,
    image_type text,
    storage_key text NOT NULL,
    encrypted boolean DEFAULT false NOT NULL,
    wrapped_key bytea,
    key_version integer,
    key_ref text,
    channel_id text,
    message_ts bigint,
    thumb_key text,
    thumb_width integer,
    thumb_height integer,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    completed_at timestamp with time zone,
    presigned boolean DEFAULT false NOT NULL,
    CONSTRAINT files_check CHECK (((NOT encrypted) OR ((wrapped_key IS NOT NULL) AND (name IS NULL) AND (title IS NULL)))),
    CONSTRAINT files_check1 CHECK (((channel_id IS NULL) = (message_ts IS NULL))),
    CONSTRAINT files_declared_size_check CHECK ((declared_size >= 0)),
    CONSTRAINT files_image_type_check CHECK ((image_type = ANY (ARRAY['png'::text, 'jpeg'::text, 'gif'::text, 'webp'::text]))),
    CONSTRAINT files_size_check CHECK ((size >= 0)),
    CONSTRAINT files_state_check CHECK ((state = ANY (ARRAY['pending'::text, 'uploaded'::text, 'complete'::text, 'deleted'::text, 'invalidated'::text])))
);

CREATE TABLE public.incoming_webhooks (
    id text NOT NULL,
    app_id text NOT NULL,
    channel_id text NOT NULL,
    secret_hash bytea NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    revoked_at timestamp with time zone
);

CREATE TABLE public.job_runs (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    kind text NOT NULL,
    workspace_id text,
    params jsonb DEFAULT '{}'::jsonb NOT NULL,
    state text DEFAULT 'queued'::text NOT NULL,
    progress bigint DEFAULT 0 NOT NULL,
    error text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    dispatched_at timestamp with time zone,
    started_at timestamp with time zone,
    finished_at timestamp with time zone,
    CONSTRAINT job_runs_check CHECK (((kind = ANY (ARRAY['retention'::text, 'files-sweep'::text])) OR (workspace_id IS NOT NULL))),
    CONSTRAINT job_runs_kind_check CHECK ((kind = ANY (ARRAY['retention'::text, 'ekm-encrypt'::text, 'ekm-rewrap'::text, 'ekm-announce'::text, 'files-thumbnail'::text, 'files-sweep'::text]))),
    CONSTRAINT job_runs_progress_check CHECK ((progress >= 0)),
    CONSTRAINT job_runs_state_check CHECK ((state = ANY (ARRAY['queued'::text, 'running'::text, 'done'::text, 'failed'::text])))
);

CREATE TABLE public.messages (
    channel_id text NOT NULL,
    seq bigint NOT NULL,
    ts bigint NOT NULL,
    user_id text NOT NULL,
    text text,
    thread_ts bigint,
    reply_broadcast boolean DEFAULT false NOT NULL,
    reply_count integer DEFAULT 0 NOT NULL,
    latest_reply bigint,
    edited_ts bigint,
    edited_by text,
    client_msg_id uuid,
    deleted boolean DEFAULT false NOT NULL,
    attachments jsonb,
    body_enc bytea,
    data_key_id bigint,
    files jsonb,
    rich jsonb
);

CREATE TABLE public.notify_prefs (
    user_id text NOT NULL,
    channel_id text DEFAULT ''::text NOT NULL,
    level text,
    muted boolean DEFAULT false NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT notify_prefs_check CHECK (((channel_id <> ''::text) OR ((level IS NOT NULL) AND (NOT muted)))),
    CONSTRAINT notify_prefs_level_check CHECK ((level = ANY (ARRAY['all'::text, 'mentions'::text, 'nothing'::text])))
);

CREATE UNLOGGED TABLE public.notify_viewers (
    node text NOT NULL,
    socket text NOT NULL,
    user_id text NOT NULL,
    channel_id text,
    active_until timestamp with time zone NOT NULL
);

CREATE TABLE public.pins (
    channel_id text NOT NULL,
    message_ts bigint NOT NULL,
    pinned_by text NOT NULL,
    seq bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.push_subscriptions (
    id bigint NOT NULL,
    user_id text NOT NULL,
    endpoint text NOT NULL,
    p256dh text NOT NULL,
    auth text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE public.push_subscriptions ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.push_subscriptions_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.reactions (
    channel_id text NOT NULL,
    message_ts bigint NOT NULL,
    name text NOT NULL,
    user_id text NOT NULL,
    seq bigint NOT NULL
);

CREATE TABLE public.retention_policies (
    workspace_id text NOT NULL,
    channel_id text,
    keep_days integer,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT retention_policies_keep_days_check CHECK (((keep_days IS NULL) OR ((keep_days >= 1) AND (keep_days <= 36500))))
);

CREATE TABLE public.scheduled_messages (
    id text NOT NULL,
    workspace_id text NOT NULL,
    channel_id text NOT NULL,
    user_id text NOT NULL,
    text text NOT NULL,
    thread_ts bigint,
    post_at bigint NOT NULL,
    state text DEFAULT 'pending'::text NOT NULL,
    error text,
    posted_ts bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    dispatched_at timestamp with time zone,
    CONSTRAINT scheduled_messages_state_check CHECK ((state = ANY (ARRAY['pending'::text, 'posted'::text, 'failed'::text, 'deleted'::text])))
);

CREATE TABLE public.search_keys (
    workspace_id text NOT NULL,
    key_version integer NOT NULL,
    key_ref text NOT NULL,
    wrapped bytea NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT search_keys_key_version_check CHECK ((key_version > 0))
);

CREATE TABLE public.search_messages (
    channel_id text NOT NULL,
    ts bigint NOT NULL,
    workspace_id text NOT NULL,
    user_id text NOT NULL,
    thread_ts bigint,
    has_link boolean DEFAULT false NOT NULL,
    key_version integer,
    tokens tsvector NOT NULL
);

CREATE TABLE public.signin_codes (
    code_hash bytea NOT NULL,
    user_id text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    used_at timestamp with time zone
);

CREATE TABLE public.status_expirations (
    user_id text NOT NULL,
    expiration bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    dispatched_at timestamp with time zone
);

CREATE TABLE public.tokens (
    id text NOT NULL,
    user_id text NOT NULL,
    secret_hash bytea NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    revoked_at timestamp with time zone,
    kind text DEFAULT 'api'::text NOT NULL,
    expires_at timestamp with time zone,
    CONSTRAINT tokens_kind_check CHECK ((kind = ANY (ARRAY['api'::text, 'session'::text, 'bot'::text, 'app'::text]))),
    CONSTRAINT tokens_session_expires CHECK (((kind <> 'session'::text) OR (expires_at IS NOT NULL)))
);

CREATE TABLE public.unread_channels (
    channel_id text NOT NULL,
    latest_ts bigint NOT NULL,
    CONSTRAINT unread_channels_latest_ts_check CHECK ((latest_ts >= 0))
);

CREATE TABLE public.unread_messages (
    channel_id text NOT NULL,
    ts bigint NOT NULL,
    seq bigint NOT NULL,
    user_id text NOT NULL,
    counts_as_unread boolean NOT NULL,
    mentions text[] DEFAULT '{}'::text[] NOT NULL,
    mentions_channel boolean DEFAULT false NOT NULL,
    mentions_here boolean DEFAULT false NOT NULL,
    deleted boolean DEFAULT false NOT NULL,
    CONSTRAINT unread_messages_seq_check CHECK ((seq > 0)),
    CONSTRAINT unread_messages_ts_check CHECK ((ts > 0))
);

CREATE TABLE public.users (
    id text NOT NULL,
    workspace_id text NOT NULL,
    name text NOT NULL,
    real_name text DEFAULT ''::text NOT NULL,
    role text NOT NULL,
    deleted boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    email text,
    display_name text DEFAULT ''::text NOT NULL,
    title text DEFAULT ''::text NOT NULL,
    status_text text DEFAULT ''::text NOT NULL,
    status_emoji text DEFAULT ''::text NOT NULL,
    status_expiration bigint DEFAULT 0 NOT NULL,
    avatar_url text DEFAULT ''::text NOT NULL,
    manual_away boolean DEFAULT false NOT NULL,
    profile_updated_at timestamp with time zone DEFAULT now() NOT NULL,
    bot_id text,
    CONSTRAINT users_role_check CHECK ((role = ANY (ARRAY['member'::text, 'admin'::text, 'analyst'::text])))
);

CREATE TABLE public.workspaces (
    id text NOT NULL,
    name text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE ONLY public.app_response_urls
    ADD CONSTRAINT app_response_urls_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.app_socket_tickets
    ADD CONSTRAINT app_socket_tickets_pkey PRIMARY KEY (ticket_hash);

ALTER TABLE ONLY public.apps
    ADD CONSTRAINT apps_bot_user_id_key UNIQUE (bot_user_id);

ALTER TABLE ONLY public.apps
    ADD CONSTRAINT apps_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.audit_log
    ADD CONSTRAINT audit_log_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.channel_keys
    ADD CONSTRAINT channel_keys_pkey PRIMARY KEY (workspace_id, kind, key);

ALTER TABLE ONLY public.channel_members
    ADD CONSTRAINT channel_members_pkey PRIMARY KEY (channel_id, user_id);

ALTER TABLE ONLY public.channels
    ADD CONSTRAINT channels_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.checkpoints
    ADD CONSTRAINT checkpoints_pkey PRIMARY KEY (name);

ALTER TABLE ONLY public.custom_emoji
    ADD CONSTRAINT custom_emoji_pkey PRIMARY KEY (workspace_id, name);

ALTER TABLE ONLY public.data_keys
    ADD CONSTRAINT data_keys_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.data_keys
    ADD CONSTRAINT data_keys_workspace_id_channel_id_window_start_key UNIQUE (workspace_id, channel_id, window_start);

ALTER TABLE ONLY public.ekm_revocations
    ADD CONSTRAINT ekm_revocations_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.ekm_workspaces
    ADD CONSTRAINT ekm_workspaces_pkey PRIMARY KEY (workspace_id);

ALTER TABLE ONLY public.events
    ADD CONSTRAINT events_pkey PRIMARY KEY (channel_id, seq);

ALTER TABLE ONLY public.files
    ADD CONSTRAINT files_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.incoming_webhooks
    ADD CONSTRAINT incoming_webhooks_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.job_runs
    ADD CONSTRAINT job_runs_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.messages
    ADD CONSTRAINT messages_channel_id_ts_key UNIQUE (channel_id, ts);

ALTER TABLE ONLY public.messages
    ADD CONSTRAINT messages_pkey PRIMARY KEY (channel_id, seq);

ALTER TABLE ONLY public.notify_prefs
    ADD CONSTRAINT notify_prefs_pkey PRIMARY KEY (user_id, channel_id);

ALTER TABLE ONLY public.notify_viewers
    ADD CONSTRAINT notify_viewers_pkey PRIMARY KEY (node, socket);

ALTER TABLE ONLY public.pins
    ADD CONSTRAINT pins_pkey PRIMARY KEY (channel_id, message_ts);

ALTER TABLE ONLY public.push_subscriptions
    ADD CONSTRAINT push_subscriptions_endpoint_key UNIQUE (endpoint);

ALTER TABLE ONLY public.push_subscriptions
    ADD CONSTRAINT push_subscriptions_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.reactions
    ADD CONSTRAINT reactions_pkey PRIMARY KEY (channel_id, message_ts, name, user_id);

ALTER TABLE ONLY public.retention_policies
    ADD CONSTRAINT retention_policies_scope UNIQUE NULLS NOT DISTINCT (workspace_id, channel_id);

ALTER TABLE ONLY public.scheduled_messages
    ADD CONSTRAINT scheduled_messages_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.search_keys
    ADD CONSTRAINT search_keys_pkey PRIMARY KEY (workspace_id, key_version);

ALTER TABLE ONLY public.search_messages
    ADD CONSTRAINT search_messages_pkey PRIMARY KEY (channel_id, ts);

ALTER TABLE ONLY public.signin_codes
    ADD CONSTRAINT signin_codes_pkey PRIMARY KEY (code_hash);

ALTER TABLE ONLY public.status_expirations
    ADD CONSTRAINT status_expirations_pkey PRIMARY KEY (user_id, expiration);

ALTER TABLE ONLY public.tokens
    ADD CONSTRAINT tokens_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.unread_channels
    ADD CONSTRAINT unread_channels_pkey PRIMARY KEY (channel_id);

ALTER TABLE ONLY public.unread_messages
    ADD CONSTRAINT unread_messages_pkey PRIMARY KEY (channel_id, ts);

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_bot_id_key UNIQUE (bot_id);

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_workspace_id_name_key UNIQUE (workspace_id, name);

ALTER TABLE ONLY public.workspaces
    ADD CONSTRAINT workspaces_pkey PRIMARY KEY (id);

CREATE INDEX apps_workspace ON public.apps USING btree (workspace_id);

CREATE INDEX audit_log_at ON public.audit_log USING btree (at);

CREATE INDEX audit_log_workspace ON public.audit_log USING btree (workspace_id, id);

CREATE INDEX channel_keys_channel ON public.channel_keys USING btree (channel_id);

CREATE INDEX channel_members_user ON public.channel_members USING btree (user_id, channel_id);

CREATE INDEX channels_member_key ON public.channels USING btree (workspace_id, member_key) WHERE (member_key IS NOT NULL);

CREATE INDEX channels_workspace_name ON public.channels USING btree (workspace_id, name);

CREATE INDEX data_keys_version ON public.data_keys USING btree (workspace_id, key_version);

CREATE INDEX ekm_revocations_active ON public.ekm_revocations USING btree (workspace_id) WHERE (restored_at IS NULL);

CREATE UNIQUE INDEX events_client_msg_id ON public.events USING btree (channel_id, user_id, client_msg_id) WHERE (client_msg_id IS NOT NULL);

CREATE INDEX events_global ON public.events USING btree (tx_node, tx_id, "position");

CREATE INDEX files_channel_message ON public.files USING btree (channel_id, message_ts) WHERE (channel_id IS NOT NULL);

CREATE INDEX files_stale_keys ON public.files USING btree (workspace_id, key_version) WHERE (wrapped_key IS NOT NULL);

CREATE INDEX files_unfinished ON public.files USING btree (created_at) WHERE (state = ANY (ARRAY['pending'::text, 'uploaded'::text, 'deleted'::text, 'invalidated'::text]));

CREATE INDEX files_workspace_created ON public.files USING btree (workspace_id, created_at DESC, id DESC);

CREATE INDEX incoming_webhooks_app ON public.incoming_webhooks USING btree (app_id);

CREATE INDEX job_runs_undispatched ON public.job_runs USING btree (created_at) WHERE (dispatched_at IS NULL);

CREATE INDEX job_runs_workspace ON public.job_runs USING btree (workspace_id, created_at DESC);

CREATE INDEX messages_thread ON public.messages USING btree (channel_id, thread_ts, ts) WHERE (thread_ts IS NOT NULL);

CREATE INDEX notify_prefs_all ON public.notify_prefs USING btree (user_id) WHERE (level = 'all'::text);

CREATE INDEX notify_viewers_channel ON public.notify_viewers USING btree (channel_id) WHERE (channel_id IS NOT NULL);

CREATE INDEX notify_viewers_user ON public.notify_viewers USING btree (user_id);

CREATE INDEX push_subscriptions_user ON public.push_subscriptions USING btree (user_id);

CREATE INDEX reactions_user ON public.reactions USING btree (user_id, channel_id, message_ts);

CREATE INDEX scheduled_messages_pending ON public.scheduled_messages USING btree (post_at) WHERE (state = 'pending'::text);

CREATE INDEX scheduled_messages_undispatched ON public.scheduled_messages USING btree (created_at) WHERE (dispatched_at IS NULL);

CREATE INDEX scheduled_messages_user ON public.scheduled_messages USING btree (user_id, post_at, id) WHERE (state <> 'deleted'::text);

CREATE INDEX search_messages_tokens ON public.search_messages USING gin (tokens);

CREATE INDEX search_messages_user ON public.search_messages USING btree (user_id, ts);

CREATE INDEX search_messages_workspace_ts ON public.search_messages USING btree (workspace_id, ts);

CREATE INDEX signin_codes_open ON public.signin_codes USING btree (user_id) WHERE (used_at IS NULL);

CREATE INDEX status_expirations_undispatched ON public.status_expirations USING btree (created_at) WHERE (dispatched_at IS NULL);

CREATE INDEX tokens_user ON public.tokens USING btree (user_id);

CREATE INDEX unread_messages_countable ON public.unread_messages USING btree (channel_id, ts) INCLUDE (user_id, mentions, mentions_channel, mentions_here) WHERE (counts_as_unread AND (NOT deleted));

CREATE INDEX unread_messages_mentions ON public.unread_messages USING btree (channel_id, ts) INCLUDE (user_id, mentions, mentions_channel, mentions_here) WHERE (counts_as_unread AND (NOT deleted) AND (mentions_channel OR mentions_here OR (mentions <> '{}'::text[])));

CREATE UNIQUE INDEX users_email ON public.users USING btree (workspace_id, lower(email)) WHERE (email IS NOT NULL);

CREATE TRIGGER audit_log_append_only BEFORE DELETE OR UPDATE ON public.audit_log FOR EACH ROW EXECUTE FUNCTION public.audit_log_is_append_only();

CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON public.audit_log FOR EACH STATEMENT EXECUTE FUNCTION public.audit_log_is_append_only();

CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON public.events FOR EACH STATEMENT EXECUTE FUNCTION public.events_are_append_only();

CREATE TRIGGER events_no_update BEFORE DELETE OR UPDATE ON public.events FOR EACH ROW EXECUTE FUNCTION public.events_are_append_only();

CREATE TRIGGER files_no_plaintext_in_ekm BEFORE INSERT OR UPDATE OF name, title ON public.files FOR EACH ROW WHEN (((new.name IS NOT NULL) OR (new.title IS NOT NULL))) EXECUTE FUNCTION public.files_no_plaintext_in_ekm();

CREATE TRIGGER messages_no_plaintext_in_ekm BEFORE INSERT OR UPDATE OF text ON public.messages FOR EACH ROW WHEN (((new.text IS NOT NULL) AND (new.channel_id IS DISTINCT FROM current_setting('atomcast.ekm_off_channel'::text, true)))) EXECUTE FUNCTION public.messages_no_plaintext_in_ekm();

CREATE TRIGGER messages_no_plaintext_rich_in_ekm BEFORE INSERT OR UPDATE OF rich ON public.messages FOR EACH ROW WHEN (((new.rich IS NOT NULL) AND (new.channel_id IS DISTINCT FROM current_setting('atomcast.ekm_off_channel'::text, true)))) EXECUTE FUNCTION public.messages_no_plaintext_in_ekm();

CREATE TRIGGER search_messages_no_plaintext_in_ekm BEFORE INSERT OR UPDATE ON public.search_messages FOR EACH ROW WHEN ((new.key_version IS NULL)) EXECUTE FUNCTION public.search_no_plaintext_in_ekm();

ALTER TABLE ONLY public.app_response_urls
    ADD CONSTRAINT app_response_urls_app_id_fkey FOREIGN KEY (app_id) REFERENCES public.apps(id);

ALTER TABLE ONLY public.app_response_urls
    ADD CONSTRAINT app_response_urls_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id);

ALTER TABLE ONLY public.app_socket_tickets
    ADD CONSTRAINT app_socket_tickets_token_id_fkey FOREIGN KEY (token_id) REFERENCES public.tokens(id);

ALTER TABLE ONLY public.apps
    ADD CONSTRAINT apps_bot_user_id_fkey FOREIGN KEY (bot_user_id) REFERENCES public.users(id);

ALTER TABLE ONLY public.apps
    ADD CONSTRAINT apps_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES public.workspaces(id);

ALTER TABLE ONLY public.channel_keys
    ADD CONSTRAINT channel_keys_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES public.workspaces(id);

ALTER TABLE ONLY public.channel_members
    ADD CONSTRAINT channel_members_channel_id_fkey FOREIGN KEY (channel_id) REFERENCES public.channels(id);

ALTER TABLE ONLY public.channel_members
    ADD CONSTRAINT channel_members_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id);

ALTER TABLE ONLY public.channels
    ADD CONSTRAINT channels_creator_fkey FOREIGN KEY (creator) REFERENCES public.users(id);

ALTER TABLE ONLY public.channels
    ADD CONSTRAINT channels_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES public.workspaces(id);

ALTER TABLE ONLY public.custom_emoji
    ADD CONSTRAINT custom_emoji_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES public.workspaces(id);

ALTER TABLE ONLY public.data_keys
    ADD CONSTRAINT data_keys_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES public.workspaces(id);

ALTER TABLE ONLY public.ekm_revocations
    ADD CONSTRAINT ekm_revocations_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES public.workspaces(id);

ALTER TABLE ONLY public.ekm_workspaces
    ADD CONSTRAINT ekm_workspaces_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES public.workspaces(id);

ALTER TABLE ONLY public.files
    ADD CONSTRAINT files_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id);

ALTER TABLE ONLY public.files
    ADD CONSTRAINT files_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES public.workspaces(id);

ALTER TABLE ONLY public.incoming_webhooks
    ADD CONSTRAINT incoming_webhooks_app_id_fkey FOREIGN KEY (app_id) REFERENCES public.apps(id);

ALTER TABLE ONLY public.job_runs
    ADD CONSTRAINT job_runs_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES public.workspaces(id);

ALTER TABLE ONLY public.notify_prefs
    ADD CONSTRAINT notify_prefs_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.push_subscriptions
    ADD CONSTRAINT push_subscriptions_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.retention_policies
    ADD CONSTRAINT retention_policies_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES public.workspaces(id);

ALTER TABLE ONLY public.scheduled_messages
    ADD CONSTRAINT scheduled_messages_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id);

ALTER TABLE ONLY public.scheduled_messages
    ADD CONSTRAINT scheduled_messages_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES public.workspaces(id);

ALTER TABLE ONLY public.search_keys
    ADD CONSTRAINT search_keys_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES public.workspaces(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.signin_codes
    ADD CONSTRAINT signin_codes_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id);

ALTER TABLE ONLY public.status_expirations
    ADD CONSTRAINT status_expirations_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id);

ALTER TABLE ONLY public.tokens
    ADD CONSTRAINT tokens_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id);

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES public.workspaces(id);

CREATE PUBLICATION atomcast_events WITH (publish = 'insert, update, delete, truncate');

ALTER PUBLICATION atomcast_events ADD TABLE ONLY public.events;
