-- Lineage: the graph each dbt target's manifest describes (src/lineage/lineage-graph.ts), kept
-- per origin (the dbt target it came from) so re-reading one manifest replaces only its own
-- graph. Several origins may describe the same asset (a model in one project is a source in
-- another): queries walk the union of every origin's edges.
CREATE TABLE lineage_nodes (
  origin        text NOT NULL,
  asset         text NOT NULL,
  kind          text NOT NULL CHECK (kind IN ('source', 'model', 'seed', 'snapshot', 'exposure')),
  name          text NOT NULL,
  dbt_unique_id text NOT NULL,
  owner         text,
  -- Exposures only: dashboard, notebook, analysis, ml or application, and where to see it.
  exposure_type text,
  url           text,
  updated_at    timestamptz NOT NULL,
  PRIMARY KEY (origin, asset)
);
-- Node info is looked up by asset across origins.
CREATE INDEX lineage_nodes_asset_idx ON lineage_nodes (asset);

-- An edge belongs to its origin's graph: both ends are nodes of that origin.
CREATE TABLE lineage_edges (
  origin     text NOT NULL,
  upstream   text NOT NULL,
  downstream text NOT NULL,
  PRIMARY KEY (origin, upstream, downstream),
  FOREIGN KEY (origin, upstream) REFERENCES lineage_nodes (origin, asset) ON DELETE CASCADE,
  FOREIGN KEY (origin, downstream) REFERENCES lineage_nodes (origin, asset) ON DELETE CASCADE
);
-- Walking down (blast radius) starts from an upstream; walking up (root cause) from a downstream.
CREATE INDEX lineage_edges_upstream_idx ON lineage_edges (upstream, downstream);
CREATE INDEX lineage_edges_downstream_idx ON lineage_edges (downstream, upstream);
