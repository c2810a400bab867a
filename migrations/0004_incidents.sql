-- Incidents: what pipewarden remembers about each check between evaluations, the incidents
-- themselves with their timelines, silences, and the outbox every notification goes through.

-- One incident per check at a time (the partial unique index below). dedup_key is the key the
-- outside world knows it by (PagerDuty's dedup_key); it is derived from the row id, so it is
-- the same from every replica and across restarts.
CREATE TABLE incidents (
  id               bigserial PRIMARY KEY,
  check_id         text NOT NULL,
  kind             text NOT NULL,
  asset            text NOT NULL,
  column_name      text,
  dedup_key        text NOT NULL UNIQUE,
  status           text NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
  severity         text NOT NULL CHECK (severity IN ('warning', 'error', 'critical')),
  flapping         boolean NOT NULL DEFAULT false,
  owner            text,
  opened_at        timestamptz NOT NULL,
  acknowledged_at  timestamptz,
  acknowledged_by  text,
  resolved_at      timestamptz,
  resolved_by      text,
  last_notified_at timestamptz NOT NULL,
  -- When PagerDuty was first told (a warning incident pages only once it turns critical), so a
  -- resolve or acknowledge is sent only for incidents PagerDuty knows.
  paged_at         timestamptz,
  -- The finding that opened it, then the latest one: what every message shows as evidence.
  last_finding     jsonb NOT NULL
);
CREATE UNIQUE INDEX incidents_one_active_per_check ON incidents (check_id) WHERE status <> 'resolved';
CREATE INDEX incidents_opened_idx ON incidents (opened_at DESC);

-- Per check: the streaks and recent changes the lifecycle needs (src/incidents/lifecycle.ts),
-- and the incident currently open for it. Locked row by row while a job applies its findings.
CREATE TABLE check_tracking (
  check_id     text PRIMARY KEY,
  tracking     jsonb NOT NULL,
  incident_id  bigint REFERENCES incidents (id),
  evaluated_at timestamptz NOT NULL
);

-- The timeline: finding changes, notifications queued or suppressed, acknowledgements (who,
-- from where), runbook steps later.
CREATE TABLE incident_events (
  id          bigserial PRIMARY KEY,
  incident_id bigint NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  at          timestamptz NOT NULL,
  type        text NOT NULL,
  actor       text,
  source      text,
  detail      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX incident_events_incident_idx ON incident_events (incident_id, id);

-- Silences: notifications for matching checks are not sent while active; the incidents still
-- exist and still count in metrics. A maintenance window is a silence with a cron schedule.
CREATE TABLE silences (
  id            bigserial PRIMARY KEY,
  asset_globs   text[] NOT NULL DEFAULT '{}',
  check_globs   text[] NOT NULL DEFAULT '{}',
  starts_at     timestamptz NOT NULL,
  ends_at       timestamptz NOT NULL CHECK (ends_at > starts_at),
  reason        text NOT NULL,
  created_by    text NOT NULL,
  created_at    timestamptz NOT NULL,
  cancelled_at  timestamptz
);
CREATE INDEX silences_active_idx ON silences (ends_at) WHERE cancelled_at IS NULL;

-- Every notification, written in the same transaction as the incident change that causes it and
-- delivered by the outbox loop. Items of one incident and channel go out in id order.
CREATE TABLE outbox (
  id               bigserial PRIMARY KEY,
  incident_id      bigint REFERENCES incidents (id) ON DELETE CASCADE,
  channel          text NOT NULL CHECK (channel IN ('console', 'slack', 'pagerduty')),
  payload          jsonb NOT NULL,
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL,
  claimed_until    timestamptz,
  created_at       timestamptz NOT NULL,
  delivered_at     timestamptz,
  last_error       text
);
CREATE INDEX outbox_pending_idx ON outbox (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX outbox_incident_idx ON outbox (incident_id, channel, id);

-- Webhook deliveries already applied (PagerDuty retries and replays): by the sender's event id.
CREATE TABLE webhook_events (
  source       text NOT NULL,
  event_id     text NOT NULL,
  received_at  timestamptz NOT NULL,
  PRIMARY KEY (source, event_id)
);
