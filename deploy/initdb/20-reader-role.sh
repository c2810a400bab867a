#!/bin/sh
# pipewarden watches the warehouse through a read-only role, as it should in production (its
# sessions are read-only anyway; the role makes that the database's rule too). The password and
# the database name reach psql as variables that psql quotes itself (:'password', :"database"),
# never pasted into SQL text.
set -eu

psql --no-psqlrc -v ON_ERROR_STOP=1 \
  -v password="${WAREHOUSE_READER_PASSWORD:?set WAREHOUSE_READER_PASSWORD for the postgres service}" \
  -v database="$POSTGRES_DB" \
  --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE ROLE pipewarden_reader LOGIN PASSWORD :'password';
GRANT CONNECT ON DATABASE :"database" TO pipewarden_reader;
GRANT USAGE ON SCHEMA public TO pipewarden_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO pipewarden_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO pipewarden_reader;
SQL
