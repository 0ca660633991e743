-- The search index (issue 11): one row per live message, kept by the search-index projection from
-- the log (never on the post's commit path). `tokens` holds the message's normalized words with
-- their positions; in an EKM workspace each word is replaced by a keyed blind token (HMAC under the
-- workspace's search key of `key_version`), so the index stores no plaintext word (docs/search.md).
CREATE TABLE search_messages (
  channel_id text NOT NULL,
  ts bigint NOT NULL,
  workspace_id text NOT NULL,
  user_id text NOT NULL,
  thread_ts bigint,
  has_link boolean NOT NULL DEFAULT false,
  -- NULL: plain words; otherwise the search_keys version the blind tokens were made with.
  key_version integer,
  tokens tsvector NOT NULL,
  PRIMARY KEY (channel_id, ts)
);
CREATE INDEX search_messages_tokens ON search_messages USING gin (tokens);
-- Queries without words (from:, in:, has:link alone) and the re-keying job walk a workspace by time.
CREATE INDEX search_messages_workspace_ts ON search_messages (workspace_id, ts);
CREATE INDEX search_messages_user ON search_messages (user_id, ts);

-- Per-workspace keys of the blind index, one per KEK version, wrapped by the workspace's key
-- provider like data keys are: the database never holds one unwrapped.
CREATE TABLE search_keys (
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  key_version integer NOT NULL CHECK (key_version > 0),
  key_ref text NOT NULL,
  wrapped bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, key_version)
);

-- Plain words never land in an EKM workspace's index, whichever path writes (see the function).
CREATE TRIGGER search_messages_no_plaintext_in_ekm BEFORE INSERT OR UPDATE ON search_messages
  FOR EACH ROW WHEN (NEW.key_version IS NULL) EXECUTE FUNCTION search_no_plaintext_in_ekm();
