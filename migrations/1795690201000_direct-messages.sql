-- DMs and group DMs (issue 10 item 1) are private channel rows of another kind: the same streams,
-- the same append path (post_message() sees a private channel and needs no change), history,
-- marks, counts, retention and EKM as for channels. Their members are fixed; member_key (the sorted
-- member ids) makes "the same people get the same conversation" a unique index, so concurrent
-- conversations.open calls for one set of people create it once. No CHECK on channels: every post
-- updates its head row and would pay for it (see the channel-streams migration); the one writer of
-- DM rows (conversations.open) sets kind 'im'/'mpim', is_private and member_key together.
ALTER TABLE channels
  ADD COLUMN kind       text NOT NULL DEFAULT 'channel',   -- 'channel' | 'im' | 'mpim'
  ADD COLUMN member_key text;                              -- DMs: their member ids, sorted, comma-joined
CREATE UNIQUE INDEX channels_member_key ON channels(workspace_id, member_key) WHERE member_key IS NOT NULL;

-- Whether the conversation shows in the member's sidebar (conversations.open / conversations.close).
ALTER TABLE channel_members ADD COLUMN is_open boolean NOT NULL DEFAULT true;
