-- The first state schema. The runner sets search_path to the configured schema, so no object
-- here names its schema; each migration runs in one transaction and is never edited once shipped.

-- One measured value per asset · metric · column · time bucket. Re-measuring a bucket (late
-- data) overwrites it, hence the primary key; column_name is '' for table-level metrics so the
-- key never contains NULL.
create table observations (
  asset text not null,
  metric text not null,
  column_name text not null default '',
  bucket timestamptz not null,
  value double precision not null,
  measured_at timestamptz not null default now(),
  primary key (asset, metric, column_name, bucket)
);

-- Time-limited claims: one replica runs each scheduled tick, one worker holds a piece of work.
-- A lease is free again once expires_at has passed, so a crashed holder blocks nobody for long.
create table leases (
  name text primary key,
  holder text not null,
  acquired_at timestamptz not null,
  expires_at timestamptz not null
);

-- Every evaluation of every check, kept as history for incidents, backtests and dashboards.
create table findings (
  id bigserial primary key,
  check_id text not null,
  kind text not null,
  asset text not null,
  column_name text,
  status text not null check (status in ('ok', 'warn', 'fail', 'error')),
  observed double precision,
  expected_low double precision,
  expected_high double precision,
  score double precision,
  bucket timestamptz,
  message text not null,
  evaluated_at timestamptz not null
);

create index findings_check_evaluated_idx on findings (check_id, evaluated_at desc);
create index findings_asset_evaluated_idx on findings (asset, evaluated_at desc);
