-- Apps (issue 12): an installed app owns a bot user (users.bot_id set), a bot token (xoxb-) and an
-- app token (xapp-, Socket Mode only) in `tokens`, a signing secret and its event subscriptions.

-- A bot user is a user like any other (membership, not_in_channel), marked by its bot id (B...).
ALTER TABLE users ADD COLUMN bot_id text UNIQUE;

ALTER TABLE tokens DROP CONSTRAINT tokens_kind_check;
ALTER TABLE tokens ADD CONSTRAINT tokens_kind_check CHECK (kind IN ('api', 'session', 'bot', 'app'));
ALTER TABLE tokens DROP CONSTRAINT tokens_session_expires;
ALTER TABLE tokens ADD CONSTRAINT tokens_session_expires CHECK (kind <> 'session' OR expires_at IS NOT NULL);

CREATE TABLE apps (
  id                   text PRIMARY KEY,
  workspace_id         text NOT NULL REFERENCES workspaces(id),
  name                 text NOT NULL,
  bot_user_id          text NOT NULL UNIQUE REFERENCES users(id),
  -- The signing secret must be usable to sign (HMAC key), so it cannot be stored hashed.
  signing_secret       text NOT NULL,
  event_subscriptions  text[] NOT NULL DEFAULT '{}',
  request_url          text,
  interactivity_url    text,
  -- Events API delivery stopped after repeated failure; the admin sees why and resumes.
  paused_at            timestamptz,
  paused_reason        text,
  created_at           timestamptz NOT NULL DEFAULT now(),
  uninstalled_at       timestamptz
);
CREATE INDEX apps_workspace ON apps(workspace_id);

-- Incoming webhooks: POST /services/<workspace>/<id>/<secret>; only sha256(secret) is kept.
-- channel_id here and in app_response_urls has no foreign key: on Citus channels is distributed and
-- these are reference tables, which may not reference it (one schema serves both).
CREATE TABLE incoming_webhooks (
  id           text PRIMARY KEY,
  app_id       text NOT NULL REFERENCES apps(id),
  channel_id   text NOT NULL,
  secret_hash  bytea NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz
);
CREATE INDEX incoming_webhooks_app ON incoming_webhooks(app_id);

-- response_url of an interaction: /api/apps.respond/<id>/<secret>, valid 30 minutes, 5 uses (as Slack).
CREATE TABLE app_response_urls (
  id           text PRIMARY KEY,
  app_id       text NOT NULL REFERENCES apps(id),
  channel_id   text NOT NULL,
  message_ts   bigint NOT NULL,
  user_id      text NOT NULL REFERENCES users(id),
  secret_hash  bytea NOT NULL,
  uses_left    int NOT NULL DEFAULT 5,
  expires_at   timestamptz NOT NULL
);

-- Socket Mode: apps.connections.open hands out a single-use ticket in the ws URL (any node can
-- redeem it); only sha256(ticket) is kept.
CREATE TABLE app_socket_tickets (
  ticket_hash  bytea PRIMARY KEY,
  token_id     text NOT NULL REFERENCES tokens(id),
  expires_at   timestamptz NOT NULL,
  used_at      timestamptz
);
