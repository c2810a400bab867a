-- Slack: the one message each incident has in its owner's channel. The outbox's Slack deliverer
-- posts it for an incident's first change and edits it in place (chat.update) for every later
-- one, replying in its thread with the change, so the thread is the incident's timeline.
-- `channel` is the channel id Slack answered with (chat.update takes no channel names).
CREATE TABLE slack_messages (
  incident_id       bigint PRIMARY KEY REFERENCES incidents (id) ON DELETE CASCADE,
  channel           text NOT NULL,
  ts                text NOT NULL,
  -- The latest runbook progress shown in the message, kept so an edit for a later change (an
  -- acknowledgement) still shows it.
  runbook           jsonb,
  -- The outbox item whose thread reply was posted last: a retried item does not reply twice.
  replied_outbox_id bigint,
  created_at        timestamptz NOT NULL,
  updated_at        timestamptz NOT NULL
);
