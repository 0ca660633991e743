-- Retention: keep_days NULL keeps forever. A channel row overrides its workspace's row.
CREATE TABLE retention_policies (
  workspace_id  text NOT NULL REFERENCES workspaces(id),
  channel_id    text NOT NULL DEFAULT '',   -- '' is the workspace-wide setting
  keep_days     integer CHECK (keep_days IS NULL OR keep_days BETWEEN 1 AND 36500),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, channel_id)
);

-- One sweep (scheduled or on demand), with its progress.
CREATE TABLE retention_runs (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workspace_id  text REFERENCES workspaces(id),   -- NULL: every workspace
  status        text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
  deleted       bigint NOT NULL DEFAULT 0,
  error         text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  started_at    timestamptz,
  finished_at   timestamptz
);

-- Expired bodies are found by age per channel through messages' UNIQUE (channel_id, ts).
