-- Reactions, pins, custom emoji and who set a channel's topic and purpose (issue 10). Each change is
-- also an event in the channel's stream (reaction_added, pin_added, channel_topic, ...): these
-- tables are the current state the Web API lists, written in the same transaction as the event.

ALTER TABLE channels
  ADD COLUMN topic_creator    text NOT NULL DEFAULT '',
  ADD COLUMN topic_last_set   bigint NOT NULL DEFAULT 0,   -- unix seconds, as Slack shows it
  ADD COLUMN purpose_creator  text NOT NULL DEFAULT '',
  ADD COLUMN purpose_last_set bigint NOT NULL DEFAULT 0;

-- One row per (message, emoji, user): the primary key is what makes 20 concurrent adds one.
-- Keyed by the message's ts like pins; rows of a deleted or expired message are not listed (joined
-- with live messages) and are removed with it by the retention sweep's cascade below.
CREATE TABLE reactions (
  channel_id  text NOT NULL,
  message_ts  bigint NOT NULL,
  name        text NOT NULL,
  user_id     text NOT NULL,
  seq         bigint NOT NULL,    -- the reaction_added event
  PRIMARY KEY (channel_id, message_ts, name, user_id)
);
CREATE INDEX reactions_user ON reactions(user_id, channel_id, message_ts);

CREATE TABLE pins (
  channel_id  text NOT NULL,
  message_ts  bigint NOT NULL,
  pinned_by   text NOT NULL,
  seq         bigint NOT NULL,    -- the pin_added event
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (channel_id, message_ts)
);

-- A workspace's own emoji: name -> image URL, managed by its admins over the admin API.
CREATE TABLE custom_emoji (
  workspace_id  text NOT NULL REFERENCES workspaces(id),
  name          text NOT NULL,
  url           text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, name)
);
