-- Retention: keep_days NULL keeps forever. A channel row overrides its workspace's row.
CREATE TABLE retention_policies (
  workspace_id  text NOT NULL REFERENCES workspaces(id),
  channel_id    text,   -- NULL: the workspace-wide setting
  keep_days     integer CHECK (keep_days IS NULL OR keep_days BETWEEN 1 AND 36500),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT retention_policies_scope UNIQUE NULLS NOT DISTINCT (workspace_id, channel_id)
);

-- Expired bodies are found by age per channel through messages' UNIQUE (channel_id, ts).
