-- Block Kit blocks, legacy attachments and the me_message subtype a poster sent, as one JSON object
-- ({"blocks": [...], "attachments": [...], "subtype": "me_message"}); NULL for a plain text message.
-- Separate from `attachments` (link previews the unfurler adds) so an unfurl never rewrites what the
-- poster sent. Under EKM it is sealed together with the text in body_enc and stays NULL here.
ALTER TABLE messages ADD COLUMN rich jsonb;

-- The same rule as for text: in an EKM workspace no write stores rich content in clear
-- (migrations/functions/05_messages_no_plaintext_in_ekm.sql raises ekm_required).
CREATE TRIGGER messages_no_plaintext_rich_in_ekm BEFORE INSERT OR UPDATE OF rich ON messages
  FOR EACH ROW WHEN (NEW.rich IS NOT NULL) EXECUTE FUNCTION messages_no_plaintext_in_ekm();
