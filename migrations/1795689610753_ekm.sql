-- Customer-managed keys (EKM): envelope encryption of message bodies.
CREATE TABLE ekm_workspaces (
  workspace_id  text PRIMARY KEY REFERENCES workspaces(id),
  provider      text NOT NULL CHECK (provider IN ('local', 'aws-kms')),
  key_ref       text NOT NULL,              -- the current KEK: a version label (local) or a KMS key id
  key_version   integer NOT NULL DEFAULT 1 CHECK (key_version > 0),
  enabled_at    timestamptz NOT NULL DEFAULT now()
);

-- Data keys per workspace, channel and day, stored only wrapped by the workspace's KEK.
-- messages.data_key_id names the key of a sealed body (see the channel-streams migration).
CREATE TABLE data_keys (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workspace_id  text NOT NULL REFERENCES workspaces(id),
  channel_id    text NOT NULL REFERENCES channels(id),
  window_start  date NOT NULL,
  key_version   integer NOT NULL CHECK (key_version > 0),
  key_ref       text NOT NULL,
  wrapped       bytea NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (workspace_id, channel_id, window_start)
);
CREATE INDEX data_keys_version ON data_keys(workspace_id, key_version);

-- Revoked access: the whole workspace, one channel, and/or a ts window (microseconds, open ends NULL).
CREATE TABLE ekm_revocations (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workspace_id  text NOT NULL REFERENCES workspaces(id),
  channel_id    text,
  from_ts       bigint,
  to_ts         bigint,
  created_by    text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  restored_at   timestamptz
);
CREATE INDEX ekm_revocations_active ON ekm_revocations(workspace_id) WHERE restored_at IS NULL;

-- Key operations, readable by the workspace's admins.
CREATE TABLE ekm_audit (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workspace_id  text NOT NULL REFERENCES workspaces(id),
  action        text NOT NULL,
  actor         text NOT NULL,
  detail        jsonb NOT NULL DEFAULT '{}',
  at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ekm_audit_workspace ON ekm_audit(workspace_id, id);

