-- Every admin-started or scheduled run (retention sweeps, EKM runs), and the outbox the job
-- dispatcher reads: a row is inserted in the transaction of the state change that asks for it,
-- and reaches BullMQ only through the dispatcher (dispatched_at NULL: not queued yet). The id is
-- a uuid, so a job id derived from it never repeats across databases sharing one Redis.
CREATE TABLE job_runs (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  kind           text NOT NULL CHECK (kind IN ('retention', 'ekm-encrypt', 'ekm-rewrap', 'ekm-announce')),
  workspace_id   text REFERENCES workspaces(id),   -- NULL: every workspace (the scheduled retention sweep)
  params         jsonb NOT NULL DEFAULT '{}',
  state          text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
  progress       bigint NOT NULL DEFAULT 0 CHECK (progress >= 0),   -- items done, counted in each batch's transaction
  error          text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  dispatched_at  timestamptz,
  started_at     timestamptz,
  finished_at    timestamptz,
  CHECK (kind = 'retention' OR workspace_id IS NOT NULL)
);

-- The dispatcher's outbox read.
CREATE INDEX job_runs_undispatched ON job_runs (created_at) WHERE dispatched_at IS NULL;
-- A workspace's recent runs (EKM status), and the last scheduled sweep.
CREATE INDEX job_runs_workspace ON job_runs (workspace_id, created_at DESC);

