-- Runs once, when the postgres service starts on an empty volume (the image's
-- /docker-entrypoint-initdb.d), connected to POSTGRES_DB, which compose sets to `warehouse`.
-- pipewarden keeps its own state in a database of its own, apart from the data it watches, as it
-- would in production; it creates its schema there itself (migrations run at start).
CREATE DATABASE pipewarden;
