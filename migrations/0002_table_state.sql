-- The latest catalog snapshot of every table the metadata sweep has seen. Postgres keeps no
-- last-modified time, so the sweep derives one: when a table's cumulative write counters differ
-- from the previous sweep's, the table changed since then (last_changed_at).
CREATE TABLE table_state (
  asset            text PRIMARY KEY,
  warehouse        text NOT NULL,
  schema_name      text NOT NULL,
  table_name       text NOT NULL,
  kind             text NOT NULL,
  row_estimate     double precision,
  size_bytes       double precision,
  writes_total     double precision,
  columns          jsonb NOT NULL,
  first_seen_at    timestamptz NOT NULL,
  last_seen_at     timestamptz NOT NULL,
  last_changed_at  timestamptz
);

CREATE INDEX table_state_warehouse_idx ON table_state (warehouse);
