-- Up Migration

-- Link previews (Slack-style attachments) the unfurler stored on a message, as a JSON array.
-- NULL: never unfurled. They live on the body row, so retention and deletion remove them with it.
-- A nullable column without a default is a catalog-only change: no table rewrite.
ALTER TABLE messages ADD COLUMN attachments jsonb;

-- Down Migration
ALTER TABLE messages DROP COLUMN attachments;
