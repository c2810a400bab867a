-- Root-cause grouping and blast radius (src/incidents/root-cause.ts). An incident whose asset is
-- downstream (in lineage) of an asset with an open incident joins that incident: caused_by names
-- it, and it does not page on its own while grouped. Only one level: a cause is never grouped.
ALTER TABLE incidents ADD COLUMN caused_by bigint REFERENCES incidents (id);
CREATE INDEX incidents_caused_by_idx ON incidents (caused_by) WHERE caused_by IS NOT NULL;

-- What read the asset when the incident opened (src/lineage/blast-radius.ts): a one-line summary
-- and the bounded details PagerDuty, Slack and explain show. Null when lineage knows no readers.
ALTER TABLE incidents ADD COLUMN blast_radius jsonb;

-- Set when an incident's cause resolved and released it: its next failing evaluation pages it
-- (it never paged while grouped), a passing one resolves it as usual. Cleared by either.
ALTER TABLE incidents ADD COLUMN released_at timestamptz;
