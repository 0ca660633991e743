-- Trigger function of messages_no_plaintext_in_ekm (ekm-no-plaintext migration): no write of a body,
-- on any path, stores plaintext in a workspace that uses EKM. A writer whose cached view of the
-- setting is stale gets SQLSTATE EK001 ('ekm_required') and seals with fresh settings instead.
-- Writers hold the channel's head-row lock, and enabling EKM takes every channel lock of the
-- workspace before it commits, so a write either commits before EKM is on (and the encryption run
-- sees it) or sees EKM on here. The triggers skip the rows of the channel that post_message() has
-- checked itself in this transaction (atomcast.ekm_off_channel: see the ekm-guard-skips-checked-posts
-- migration).
CREATE OR REPLACE FUNCTION messages_no_plaintext_in_ekm() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM channels c JOIN ekm_workspaces w ON w.workspace_id = c.workspace_id WHERE c.id = NEW.channel_id) THEN
    RAISE EXCEPTION 'ekm_required' USING ERRCODE = 'EK001',
      DETAIL = 'the workspace uses EKM: a message body must be stored sealed';
  END IF;
  RETURN NEW;
END $$;
