-- Trigger function of audit_log_append_only (audit-log migration): rows are never changed, and
-- deleted only by the retention sweep, which sets `atomcast.audit_sweep` for its transaction.
CREATE OR REPLACE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('atomcast.audit_sweep', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP USING ERRCODE = 'restrict_violation';
END $$;
