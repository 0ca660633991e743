-- Presigned uploads (issue 11 review): a presigned PUT (upload_method=PUT, S3) sends its bytes
-- straight to the bucket, in clear. `presigned` marks the files that got such a URL; when the
-- workspace turns EKM on, the encrypt run moves the pending ones to `invalidated`: completion refuses
-- them (`upload_invalidated`), their objects are removed, and the sweep removes the row (and whatever
-- a late PUT left) after FILES_ORPHAN_TTL_MS, as it does for uploads never completed.
ALTER TABLE files ADD COLUMN presigned boolean NOT NULL DEFAULT false;
ALTER TABLE files DROP CONSTRAINT files_state_check;
ALTER TABLE files ADD CONSTRAINT files_state_check CHECK (state IN ('pending', 'uploaded', 'complete', 'deleted', 'invalidated'));
DROP INDEX files_unfinished;
CREATE INDEX files_unfinished ON files (created_at) WHERE state IN ('pending', 'uploaded', 'deleted', 'invalidated');
