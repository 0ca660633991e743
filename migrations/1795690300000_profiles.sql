-- Profiles, status and presence (issue 10 item 5). A profile lives on its user row; nothing here is
-- a channel event: profile changes reach only the sockets that subscribed to the user.
ALTER TABLE users
  ADD COLUMN email             text,
  ADD COLUMN display_name      text NOT NULL DEFAULT '',
  ADD COLUMN title             text NOT NULL DEFAULT '',
  ADD COLUMN status_text       text NOT NULL DEFAULT '',
  ADD COLUMN status_emoji      text NOT NULL DEFAULT '',
  -- unix seconds; 0: the status does not expire
  ADD COLUMN status_expiration bigint NOT NULL DEFAULT 0,
  ADD COLUMN avatar_url        text NOT NULL DEFAULT '',
  -- users.setPresence away: shown away even while connected
  ADD COLUMN manual_away       boolean NOT NULL DEFAULT false,
  ADD COLUMN profile_updated_at timestamptz NOT NULL DEFAULT now();

-- users.lookupByEmail: one user per address in a workspace, compared case-insensitively.
CREATE UNIQUE INDEX users_email ON users (workspace_id, lower(email)) WHERE email IS NOT NULL;

-- The outbox of status expirations: written in the profile change's transaction, turned into a
-- BullMQ delayed job (id from user and expiration) by the job dispatcher, which sets dispatched_at.
CREATE TABLE status_expirations (
  user_id       text NOT NULL REFERENCES users(id),
  expiration    bigint NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  dispatched_at timestamptz,
  PRIMARY KEY (user_id, expiration)
);
CREATE INDEX status_expirations_undispatched ON status_expirations (created_at) WHERE dispatched_at IS NULL;
