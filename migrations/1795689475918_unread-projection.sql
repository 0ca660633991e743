-- Read model of the "unread" projection: one row per posted message (O(1) writes per message,
-- whatever the channel's member count), maintained from message / message_changed /
-- message_deleted events by src/projections/unread. Per-user counts are computed at read time
-- against channel_members.last_read. Rebuildable: TRUNCATE it, reset its checkpoint, replay.
CREATE TABLE unread_messages (
  channel_id        text NOT NULL,
  ts                bigint NOT NULL CHECK (ts > 0),   -- microseconds, as events.ts
  seq               bigint NOT NULL CHECK (seq > 0),
  user_id           text NOT NULL,
  counts_as_unread  boolean NOT NULL,         -- top-level messages and thread replies broadcast to the channel
  mentions          text[] NOT NULL DEFAULT '{}',  -- user ids of <@U...>, sorted, distinct
  mentions_channel  boolean NOT NULL DEFAULT false, -- <!channel> or <!everyone>
  mentions_here     boolean NOT NULL DEFAULT false, -- <!here>
  deleted           boolean NOT NULL DEFAULT false,
  PRIMARY KEY (channel_id, ts)
);

-- client.counts reads unread and mention counts of a channel in one index-only range scan from the
-- read marker: the countable index carries what the mention test needs.
CREATE INDEX unread_messages_countable ON unread_messages (channel_id, ts)
  INCLUDE (user_id, mentions, mentions_channel, mentions_here)
  WHERE counts_as_unread AND NOT deleted;

-- Counting mentions: only the (few) messages that mention anyone are in this index.
CREATE INDEX unread_messages_mentions ON unread_messages (channel_id, ts)
  INCLUDE (user_id, mentions, mentions_channel, mentions_here)
  WHERE counts_as_unread AND NOT deleted AND (mentions_channel OR mentions_here OR mentions <> '{}');
