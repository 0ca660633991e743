-- Up Migration

-- client.counts reads unread and mention counts of a channel in one index-only range scan from the
-- read marker: the countable index carries what the mention test needs.
DROP INDEX unread_messages_countable;
CREATE INDEX unread_messages_countable ON unread_messages (channel_id, ts)
  INCLUDE (user_id, mentions, mentions_channel, mentions_here)
  WHERE counts_as_unread AND NOT deleted;

-- Down Migration
DROP INDEX unread_messages_countable;
CREATE INDEX unread_messages_countable ON unread_messages (channel_id, ts) INCLUDE (user_id)
  WHERE counts_as_unread AND NOT deleted;
