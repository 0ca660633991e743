-- Channels and their streams. Tables and indexes only: the functions that append to a stream
-- (append_event, append_events, post_message) are in migrations/functions/, re-applied by every migrate.
-- Per-channel tables reference each other through channel_id (they are to be distributed by it).
-- channels, events and messages are written by every post, so they carry no constraint that costs
-- post_message time (measured, backend CPU per call): no foreign key from events or messages to
-- channels (+25%: each check reads and key-share-locks the channel row), no CHECKs (+10% for nine: PostgreSQL
-- compiles each CHECK once per statement). The append functions are their only writers, and write
-- only after advance_channel_head() found and locked the channel; seq and ts come from it, >= 1.

-- The channel's head row is the append lock: advance_channel_head() takes seq and ts from it under
-- FOR NO KEY UPDATE, so appends to one channel exclude each other until commit.
CREATE TABLE channels (
  id            text PRIMARY KEY,
  workspace_id  text NOT NULL REFERENCES workspaces(id),
  name          text NOT NULL,
  is_private    boolean NOT NULL,
  is_archived   boolean NOT NULL DEFAULT false,
  creator       text NOT NULL REFERENCES users(id),
  topic         text NOT NULL DEFAULT '',
  purpose       text NOT NULL DEFAULT '',
  created_at    timestamptz NOT NULL DEFAULT now(),
  head_seq      bigint NOT NULL DEFAULT 0,   -- seq of the channel's last event
  head_ts       bigint NOT NULL DEFAULT 0,   -- microseconds; Slack ts = head_ts / 1e6 with 6 digits
  UNIQUE (workspace_id, name)
);

-- The log. Append-only: rows are only ever inserted (by the functions above), never updated or deleted.
CREATE TABLE events (
  channel_id     text NOT NULL,
  seq            bigint NOT NULL,   -- 1, 2, 3... per channel, gapless
  ts             bigint NOT NULL,   -- microseconds, strictly increasing per channel
  type           text NOT NULL,
  user_id        text,              -- NULL for events the system records (retention)
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

-- events_are_append_only() raises: see migrations/functions/.
CREATE TRIGGER events_no_update BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION events_are_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();

-- Logical-replication publication so standard CDC tools can consume the log.
CREATE PUBLICATION atomcast_events FOR TABLE events;

-- Message bodies and thread state, keyed by the (channel_id, seq) of the event that posted them.
-- Edits, deletes, retention and encryption change rows here; the log never changes. A deleted
-- message keeps its row with text NULL; an expired one's row is deleted.
CREATE TABLE messages (
  channel_id       text NOT NULL,
  seq              bigint NOT NULL,
  ts               bigint NOT NULL,
  user_id          text NOT NULL,     -- no foreign key: it would lock the poster's row on every post
  text             text,              -- plaintext body; NULL when deleted or sealed (never both text and body_enc)
  thread_ts        bigint,            -- null for top-level messages
  reply_broadcast  boolean NOT NULL DEFAULT false,
  reply_count      integer NOT NULL DEFAULT 0,
  latest_reply     bigint,
  edited_ts        bigint,
  edited_by        text,
  client_msg_id    uuid,
  deleted          boolean NOT NULL DEFAULT false,
  -- Link previews (Slack-style attachments) the unfurler stored, as a JSON array; NULL: never unfurled.
  -- They live on the body row, so retention and deletion remove them with it.
  attachments      jsonb,
  -- EKM workspaces: the body sealed with data key data_key_id (see the ekm migration); text is NULL then.
  body_enc         bytea,
  data_key_id      bigint,
  PRIMARY KEY (channel_id, seq),
  UNIQUE (channel_id, ts)
);
CREATE INDEX messages_thread ON messages(channel_id, thread_ts, ts) WHERE thread_ts IS NOT NULL;

-- Inline membership view used for authorization, maintained by the same transaction as the event.
CREATE TABLE channel_members (
  channel_id  text NOT NULL REFERENCES channels(id),
  user_id     text NOT NULL REFERENCES users(id),
  joined_seq  bigint NOT NULL CHECK (joined_seq >= 0),     -- seq of the join event (0: seeded without one)
  last_read   bigint NOT NULL DEFAULT 0 CHECK (last_read >= 0),  -- ts (microseconds) of the read marker
  PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX channel_members_user ON channel_members(user_id, channel_id);

-- Checkpoints of global-cursor consumers (projections, the job dispatcher).
CREATE TABLE checkpoints (
  name        text PRIMARY KEY,
  tx_id       xid8 NOT NULL,
  position    bigint NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
