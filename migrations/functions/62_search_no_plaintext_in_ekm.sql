-- Trigger function of search_messages_no_plaintext_in_ekm (search-index migration): an index row of
-- plain words is refused in a workspace that uses EKM. The projector's batch rolls back and is
-- retried with fresh settings (blind tokens), as a body writer is (05_messages_no_plaintext_in_ekm).
CREATE OR REPLACE FUNCTION search_no_plaintext_in_ekm() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM ekm_workspaces w WHERE w.workspace_id = NEW.workspace_id) THEN
    RAISE EXCEPTION 'ekm_required' USING ERRCODE = 'EK001',
      DETAIL = 'the workspace uses EKM: its search index must hold blind tokens';
  END IF;
  RETURN NEW;
END $$;
