-- Notifications by Web Push (issue 13): devices, preferences, and who views which channel now.

-- One row per device (browser push subscription). The endpoint is unique: a device that signs in
-- as someone else moves to that user, so the previous user's notifications stop reaching it.
CREATE TABLE push_subscriptions (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  endpoint    text NOT NULL UNIQUE,
  p256dh      text NOT NULL,
  auth        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id);

-- Per-user preferences: channel_id '' is the user's workspace-wide level (users belong to one
-- workspace); a channel row overrides the level (NULL: follow the workspace) and can mute.
CREATE TABLE notify_prefs (
  user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  channel_id  text NOT NULL DEFAULT '',
  level       text CHECK (level IN ('all', 'mentions', 'nothing')),
  muted       boolean NOT NULL DEFAULT false,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, channel_id),
  CHECK (channel_id <> '' OR (level IS NOT NULL AND NOT muted))
);
-- The notification consumer looks up the few users who asked for every message.
CREATE INDEX notify_prefs_all ON notify_prefs (user_id) WHERE level = 'all';

-- Which socket shows which channel, written by the realtime layer of every node and read by the
-- notification consumer wherever it runs. Ephemeral by nature (UNLOGGED: lost on a crash, which
-- only means a few extra notifications until sockets refresh their rows); a row counts while
-- active_until is in the future, so a node that dies stops counting within three heartbeats.
CREATE UNLOGGED TABLE notify_viewers (
  node          text NOT NULL,
  socket        text NOT NULL,
  user_id       text NOT NULL,
  channel_id    text,
  active_until  timestamptz NOT NULL,
  PRIMARY KEY (node, socket)
);
CREATE INDEX notify_viewers_user ON notify_viewers (user_id);
CREATE INDEX notify_viewers_channel ON notify_viewers (channel_id) WHERE channel_id IS NOT NULL;
