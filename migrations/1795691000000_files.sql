-- Files (issue 11): uploaded the way Slack's files.getUploadURLExternal / completeUploadExternal do
-- it, their bytes in a storage driver (a local directory or an S3-compatible bucket) under
-- `storage_key`, never in the database.
--
-- state: pending (an upload URL was handed out), uploaded (bytes stored, not completed yet),
-- complete (completeUploadExternal), deleted (files.delete, retention: its bytes are being removed;
-- the row goes once they are gone). Pending and uploaded rows older than FILES_ORPHAN_TTL_MS are
-- swept (bytes and row) by the files-sweep run.
--
-- EKM workspaces: the bytes (and the thumbnail) are sealed in chunks with a data key of the file's
-- own (`wrapped_key`, wrapped by the workspace's KEK at `key_version` / `key_ref`); its name and
-- title are stored only sealed (`meta_enc`), `name` and `title` stay NULL.
CREATE TABLE files (
  id             text PRIMARY KEY,
  workspace_id   text NOT NULL REFERENCES workspaces(id),
  user_id        text NOT NULL REFERENCES users(id),
  state          text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'uploaded', 'complete', 'deleted')),
  upload_secret  bytea NOT NULL,         -- sha-256 of the secret in the upload URL
  name           text,
  title          text,
  meta_enc       bytea,
  declared_size  bigint NOT NULL CHECK (declared_size >= 0),
  size           bigint CHECK (size >= 0),
  mimetype       text NOT NULL DEFAULT 'application/octet-stream',
  filetype       text NOT NULL DEFAULT 'binary',
  image_type     text CHECK (image_type IN ('png', 'jpeg', 'gif', 'webp')),   -- sniffed from the bytes
  storage_key    text NOT NULL,
  encrypted      boolean NOT NULL DEFAULT false,
  wrapped_key    bytea,
  key_version    integer,
  key_ref        text,
  -- Where completeUploadExternal shared it. No foreign key: on Citus channels is distributed and
  -- files a reference table, which may not reference it (one schema serves both).
  channel_id     text,
  message_ts     bigint,                         -- the message that carries it
  thumb_key      text,
  thumb_width    integer,
  thumb_height   integer,
  created_at     timestamptz NOT NULL DEFAULT now(),
  completed_at   timestamptz,
  CHECK (NOT encrypted OR (wrapped_key IS NOT NULL AND name IS NULL AND title IS NULL)),
  CHECK ((channel_id IS NULL) = (message_ts IS NULL))
);
CREATE INDEX files_workspace_created ON files (workspace_id, created_at DESC, id DESC);
CREATE INDEX files_channel_message ON files (channel_id, message_ts) WHERE channel_id IS NOT NULL;
CREATE INDEX files_unfinished ON files (created_at) WHERE state IN ('pending', 'uploaded', 'deleted');
CREATE INDEX files_stale_keys ON files (workspace_id, key_version) WHERE wrapped_key IS NOT NULL;

-- A message's files as Slack shows them in the message object (`files: [...]`): ids and what can be
-- shown without opening anything (names only outside EKM workspaces).
ALTER TABLE messages ADD COLUMN files jsonb;

-- Thumbnails and the orphan sweep are runs of the one job path (job_runs outbox -> dispatcher).
ALTER TABLE job_runs DROP CONSTRAINT job_runs_kind_check;
ALTER TABLE job_runs ADD CONSTRAINT job_runs_kind_check
  CHECK (kind IN ('retention', 'ekm-encrypt', 'ekm-rewrap', 'ekm-announce', 'files-thumbnail', 'files-sweep'));
ALTER TABLE job_runs DROP CONSTRAINT job_runs_check;
ALTER TABLE job_runs ADD CONSTRAINT job_runs_check CHECK (kind IN ('retention', 'files-sweep') OR workspace_id IS NOT NULL);

-- Names and titles are content: never in clear in an EKM workspace (migrations/functions/60_...).
CREATE TRIGGER files_no_plaintext_in_ekm BEFORE INSERT OR UPDATE OF name, title ON files
  FOR EACH ROW WHEN (NEW.name IS NOT NULL OR NEW.title IS NOT NULL) EXECUTE FUNCTION files_no_plaintext_in_ekm();
