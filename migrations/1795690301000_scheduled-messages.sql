-- chat.scheduleMessage (issue 10 item 7). A row is written in the request's transaction; the job
-- dispatcher turns it into a BullMQ delayed job (id from the row's id) and sets dispatched_at, so
-- a crash or a Redis restart between the request and the enqueue loses nothing. The worker posts
-- through chat.postMessage's path with a client_msg_id derived from the id: posted exactly once.
CREATE TABLE scheduled_messages (
  id            text PRIMARY KEY,
  workspace_id  text NOT NULL REFERENCES workspaces(id),
  channel_id    text NOT NULL,
  user_id       text NOT NULL REFERENCES users(id),
  text          text NOT NULL,
  thread_ts     bigint,
  -- unix seconds, as Slack's post_at
  post_at       bigint NOT NULL,
  state         text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'posted', 'failed', 'deleted')),
  -- the Slack error the post failed with (channel_not_found, not_in_channel, is_archived, ...)
  error         text,
  posted_ts     bigint,
  created_at    timestamptz NOT NULL DEFAULT now(),
  dispatched_at timestamptz
);
CREATE INDEX scheduled_messages_user ON scheduled_messages (user_id, post_at, id) WHERE state <> 'deleted';
CREATE INDEX scheduled_messages_undispatched ON scheduled_messages (created_at) WHERE dispatched_at IS NULL;
-- Pending rows past due: re-queued (same job id) in case Redis lost their delayed job.
CREATE INDEX scheduled_messages_pending ON scheduled_messages (post_at) WHERE state = 'pending';
