-- Table profiles: how far each profile of a table has measured, people's "expected" marks on
-- findings, and the indexes the profile job and the retention job read by.

-- One row per profile of a table: its time column, bucket width and the measures taken
-- (measures_key). A profile whose measures change starts over with a history backfill.
-- measured_through is the end of the newest complete bucket measured (the still-filling one is
-- never measured); first_bucket is the oldest bucket that held rows, where zero-filling starts.
CREATE TABLE profile_state (
  asset              text NOT NULL,
  time_column        text NOT NULL,
  bucket_ms          bigint NOT NULL CHECK (bucket_ms > 0),
  measures_key       text NOT NULL,
  first_bucket       timestamptz,
  measured_through   timestamptz NOT NULL,
  first_profiled_at  timestamptz NOT NULL,
  last_profiled_at   timestamptz NOT NULL,
  PRIMARY KEY (asset, time_column, bucket_ms)
);

-- A person said a finding was expected (a planned migration, a holiday): its bucket leaves the
-- baseline of its check. Removed with the finding by retention.
CREATE TABLE expected_marks (
  finding_id  bigint PRIMARY KEY REFERENCES findings (id) ON DELETE CASCADE,
  marked_by   text NOT NULL,
  marked_at   timestamptz NOT NULL
);

-- The series reader asks which buckets of a check were flagged; retention deletes by age.
CREATE INDEX findings_check_bucket_idx ON findings (check_id, bucket) WHERE bucket IS NOT NULL;
CREATE INDEX findings_evaluated_idx ON findings (evaluated_at);
CREATE INDEX observations_bucket_idx ON observations (bucket);
