-- Per channel, the ts of the newest message that counts as unread (top-level or broadcast, not
-- deleted; 0 when none): maintained by the "unread" projection in the same transaction as
-- unread_messages, so it always equals max(ts) of the channel's countable rows. client.counts reads
-- it as `latest`, and a member whose read marker is at or past it has nothing unread: the channel
-- costs one row instead of a probe of its messages (most of a sidebar is read). Rebuildable with
-- unread_messages (TRUNCATE both, replay).
CREATE TABLE unread_channels (
  channel_id  text PRIMARY KEY,
  latest_ts   bigint NOT NULL CHECK (latest_ts >= 0)  -- microseconds, as unread_messages.ts
);

-- Filled from the rows as they are, after any batch in flight (the projection's checkpoint row lock
-- serializes with it). A projector of the previous version still running after this does not keep
-- the table: stop those first, or `npm run rebuild -- unread` afterwards.
SELECT 1 FROM checkpoints WHERE name = 'unread' FOR UPDATE;
INSERT INTO unread_channels (channel_id, latest_ts)
SELECT channel_id, max(ts) FROM unread_messages WHERE counts_as_unread AND NOT deleted GROUP BY channel_id;
