-- The EKM plaintext guard on messages skips the rows of the one channel whose plaintext post_message()
-- has just allowed in this transaction (measured: its trigger call was ~8% of a post's PostgreSQL CPU).
-- post_message() checks EKM itself, in the UPDATE that takes the channel's head row under the channel's
-- append lock, and enabling EKM takes that lock on every channel of the workspace before it commits:
-- until this transaction ends, no plaintext body of that channel can be in an EKM workspace. It names
-- the channel in atomcast.ekm_off_channel, local to the transaction (gone at commit or rollback, and
-- with the savepoint that set it); every other write (another channel, another transaction, every
-- other path) is checked as before. See migrations/functions/05_messages_no_plaintext_in_ekm.sql.
DROP TRIGGER messages_no_plaintext_in_ekm ON messages;
CREATE TRIGGER messages_no_plaintext_in_ekm BEFORE INSERT OR UPDATE OF text ON messages
  FOR EACH ROW WHEN (NEW.text IS NOT NULL AND NEW.channel_id IS DISTINCT FROM current_setting('atomcast.ekm_off_channel', true))
  EXECUTE FUNCTION messages_no_plaintext_in_ekm();
DROP TRIGGER messages_no_plaintext_rich_in_ekm ON messages;
CREATE TRIGGER messages_no_plaintext_rich_in_ekm BEFORE INSERT OR UPDATE OF rich ON messages
  FOR EACH ROW WHEN (NEW.rich IS NOT NULL AND NEW.channel_id IS DISTINCT FROM current_setting('atomcast.ekm_off_channel', true))
  EXECUTE FUNCTION messages_no_plaintext_in_ekm();
