-- Runbook runs: every run and every step attempt, durable, so a run survives the daemon that
-- started it. A run is claimed with a lease that its daemon renews (heartbeat); when the lease
-- lapses another daemon (or the restarted one) claims it and resumes from the record.

CREATE TABLE runbook_runs (
  id               bigserial PRIMARY KEY,
  runbook          text NOT NULL,
  -- The runbook as it was when the run started (file text and its sha256): a resumed run
  -- follows the same steps even if the file changed meanwhile.
  runbook_file     text NOT NULL,
  runbook_source   text NOT NULL,
  runbook_digest   text NOT NULL,
  asset            text NOT NULL,
  incident_id      bigint REFERENCES incidents (id) ON DELETE SET NULL,
  finding          jsonb,
  params           jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- Who or what started it: `incident #12`, `cli:alice`, `slack:U0123`.
  started_by       text NOT NULL,
  status           text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'escalated', 'cancelled')),
  -- Why it ended the way it did, in one line a person reads.
  outcome          text,
  -- The run stops and escalates past this, whatever its steps are doing.
  deadline_at      timestamptz NOT NULL,
  created_at       timestamptz NOT NULL,
  started_at       timestamptz,
  finished_at      timestamptz,
  lease_owner      text,
  lease_expires_at timestamptz,
  current_step     text,
  progress         jsonb
);
CREATE INDEX runbook_runs_active_idx ON runbook_runs (id) WHERE status IN ('queued', 'running');
CREATE INDEX runbook_runs_incident_idx ON runbook_runs (incident_id, id);
CREATE INDEX runbook_runs_created_idx ON runbook_runs (created_at DESC);

-- One row per attempt of a step (and per partition of a backfill step): the inputs after
-- binding (secrets redacted), the outputs, timings and the error. `running` with no finish
-- after its daemon died is what a resume has to reason about.
CREATE TABLE runbook_step_attempts (
  id           bigserial PRIMARY KEY,
  run_id       bigint NOT NULL REFERENCES runbook_runs (id) ON DELETE CASCADE,
  step_index   integer NOT NULL,
  step         text NOT NULL,
  partition    text NOT NULL DEFAULT '',
  attempt      integer NOT NULL,
  action       text NOT NULL,
  status       text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'skipped', 'interrupted')),
  inputs       jsonb,
  outputs      jsonb,
  error        text,
  started_at   timestamptz NOT NULL,
  finished_at  timestamptz,
  UNIQUE (run_id, step_index, partition, attempt)
);

-- Decisions on `approve` steps, from Slack buttons or `pipewarden runbook approve`.
CREATE TABLE runbook_approvals (
  run_id      bigint NOT NULL REFERENCES runbook_runs (id) ON DELETE CASCADE,
  step        text NOT NULL,
  decision    text NOT NULL CHECK (decision IN ('approved', 'rejected')),
  decided_by  text NOT NULL,
  decided_at  timestamptz NOT NULL,
  comment     text,
  PRIMARY KEY (run_id, step)
);
