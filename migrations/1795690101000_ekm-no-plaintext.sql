-- "No plaintext in an EKM workspace", enforced by the database for every body write (insert and
-- update, every path): see migrations/functions/05_messages_no_plaintext_in_ekm.sql.
CREATE TRIGGER messages_no_plaintext_in_ekm BEFORE INSERT OR UPDATE OF text ON messages
  FOR EACH ROW WHEN (NEW.text IS NOT NULL) EXECUTE FUNCTION messages_no_plaintext_in_ekm();
