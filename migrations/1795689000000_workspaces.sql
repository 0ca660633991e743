-- Workspaces, users and their tokens. Forward-only: see "Schema and migrations" in the README.
CREATE TABLE workspaces (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Users are never deleted (deleted = true hides them), so rows that name a user keep their meaning.
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
