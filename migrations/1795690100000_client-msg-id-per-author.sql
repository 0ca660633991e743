-- client_msg_id is the author's retry key (Slack: a client's own id for its message), so it is
-- unique per channel AND author: another user's post that happens to reuse the id is a new post.
DROP INDEX events_client_msg_id;
CREATE UNIQUE INDEX events_client_msg_id ON events(channel_id, user_id, client_msg_id) WHERE client_msg_id IS NOT NULL;
