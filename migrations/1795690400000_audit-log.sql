-- The one audit trail of admin actions (issue 14 item 10). Append-only: UPDATE and TRUNCATE are
-- refused, DELETE only for the retention sweep (audit_log_is_append_only, migrations/functions).
-- `details` never holds a secret, a token or message text.
CREATE TABLE audit_log (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at               timestamptz NOT NULL DEFAULT now(),
  actor            text NOT NULL,          -- 'operator', 'system' or a user id
  actor_workspace  text,                   -- the acting user's workspace (NULL for operator/system)
  action           text NOT NULL,          -- e.g. access.deactivate, ekm.enable, replay.global
  target_kind      text,
  target_id        text,
  workspace_id     text,                   -- the workspace acted on (NULL: instance-wide)
  source_address   text,
  outcome          text NOT NULL CHECK (outcome IN ('ok', 'refused')),
  error            text,
  details          jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_workspace ON audit_log(workspace_id, id);
CREATE INDEX audit_log_at ON audit_log(at);

-- The EKM key operations move onto the one log.
INSERT INTO audit_log (at, actor, action, workspace_id, outcome, details)
  SELECT at, actor, 'ekm.' || action, workspace_id, 'ok', detail FROM ekm_audit ORDER BY id;
DROP TABLE ekm_audit;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();
