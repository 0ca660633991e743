-- Trigger function of files_no_plaintext_in_ekm (files migration): a file's name and title, like a
-- message body, are never stored in clear in a workspace that uses EKM (they go sealed in meta_enc).
-- A writer with a stale view of the setting gets SQLSTATE EK001 and seals with fresh settings.
CREATE OR REPLACE FUNCTION files_no_plaintext_in_ekm() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM ekm_workspaces w WHERE w.workspace_id = NEW.workspace_id) THEN
    RAISE EXCEPTION 'ekm_required' USING ERRCODE = 'EK001',
      DETAIL = 'the workspace uses EKM: a file name or title must be stored sealed';
  END IF;
  RETURN NEW;
END $$;
