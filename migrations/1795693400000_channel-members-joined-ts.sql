-- The ts of a member's join event beside its seq, copied when the member is added
-- (ChannelsRepository.addMember): client.counts counts an unread channel from max(read marker, join
-- ts), and reading the join event in the log was one more index probe per unread channel (~18% of
-- the count's database CPU with every channel of a 1,000-channel sidebar unread). 0: no join event
-- (joined_seq 0, seeded without one). NULL where a writer did not set it: the count then reads the
-- join event as before, so both give the same answer. The log is append-only, so the copy cannot go
-- stale; a member who leaves and joins again gets a new row.
ALTER TABLE channel_members ADD COLUMN joined_ts bigint CHECK (joined_ts >= 0);

UPDATE channel_members m
   SET joined_ts = coalesce((SELECT e.ts FROM events e WHERE e.channel_id = m.channel_id AND e.seq = m.joined_seq), 0);
