// The Postgres catalog in one statement: every relation with its statistics, size and columns
// (aggregated per relation, as JSON). Never one statement per table — a warehouse with ten
// thousand tables must cost the same single round trip as one with ten. One row per relation
// rather than per column also keeps the client's work and memory proportional to the tables.

import type { StatementClient } from './postgres-session.ts';
import type { CatalogColumn, CatalogTable, RelationKind, TableRef } from './warehouse.ts';

/** A column as the adapter needs it: the port's view plus what decides which measures apply. */
export interface PostgresColumn extends CatalogColumn {
  /** pg_type.typcategory of the (domain's base) type: N numeric, S string, D date/time, B boolean… */
  category: string;
  /** pg_type.typname of the (domain's base) type, e.g. `timestamptz`, `date`, `text`. */
  baseType: string;
}

/**
 * A relation's columns as listed: the port's columns, and their Postgres types as the server's
 * JSON text (`[[category, baseType], …]` in column order), parsed only for the few tables a
 * profile reads. A sweep lists every column of every table; holding two object copies of each
 * would double the listing's memory for nothing.
 */
export interface ListedColumns {
  columns: CatalogColumn[];
  typesJson: string;
}

export interface PostgresCatalogTable extends CatalogTable {
  columnTypes: string;
}

export interface RelationRow {
  schema: string;
  name: string;
  relkind: string;
  row_estimate: number | null;
  size_bytes: string | null;
  inserts: string | null;
  updates: string | null;
  deletes: string | null;
  last_analyzed_at: Date | null;
  columns: CatalogColumn[];
  column_types: string;
}

export interface ColumnRow {
  schema: string;
  table_name: string;
  name: string;
  type: string;
  nullable: boolean;
  position: number;
  category: string;
  base_type: string;
}

const RELATION_KINDS: Record<string, RelationKind> = {
  r: 'table',
  p: 'partitioned_table',
  v: 'view',
  m: 'materialized_view',
  f: 'foreign_table',
};

// `pg_` is reserved for system schemas (catalog, toast, temp); partitions are represented by
// their parent.
const RELATION_FILTER = `
  c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND NOT c.relispartition
  AND n.nspname <> 'information_schema'
  AND n.nspname NOT LIKE 'pg\\_%'
  AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[]))`;

// One statement for every relation's statistics and columns. Partitioned tables have no storage
// or counters of their own: they are summed over their leaves, found through pg_inherits because
// pg_partition_tree() would lock every partition. Sizes come from pg_total_relation_size(),
// which takes an ACCESS SHARE lock: a relation (or its index or toast) that someone holds or
// awaits an ACCESS EXCLUSIVE lock on is skipped (size null) rather than waited for, because a
// catalog read queued behind a DDL would in turn hold up everything queued behind it.
const SELECT_RELATIONS = `
WITH RECURSIVE rel AS (
  SELECT c.oid, n.nspname, c.relname, c.relkind, c.reltuples
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE ${RELATION_FILTER}
), tree AS (
  SELECT r.oid AS root, r.oid AS relid FROM rel r WHERE r.relkind = 'p'
  UNION ALL
  SELECT t.root, i.inhrelid FROM tree t JOIN pg_inherits i ON i.inhparent = t.relid
), storage AS (
  SELECT r.oid AS root, r.oid AS relid FROM rel r WHERE r.relkind IN ('r', 'm')
  UNION ALL
  SELECT t.root, t.relid FROM tree t JOIN pg_class l ON l.oid = t.relid WHERE l.relkind IN ('r', 'm')
), exclusive AS (
  SELECT l.relation AS oid FROM pg_locks l
  WHERE l.locktype = 'relation' AND l.mode = 'AccessExclusiveLock'
    AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
), blocked AS (
  SELECT e.oid FROM exclusive e
  UNION SELECT i.indrelid FROM pg_index i JOIN exclusive e ON e.oid = i.indexrelid
  UNION SELECT c.oid FROM pg_class c JOIN exclusive e ON e.oid = c.reltoastrelid
), cols AS (
  SELECT a.attrelid AS oid,
    json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod),
      'nullable', NOT a.attnotnull, 'position', a.attnum) ORDER BY a.attnum) AS columns,
    json_agg(json_build_array(coalesce(b.typcategory, t.typcategory), coalesce(b.typname, t.typname)) ORDER BY a.attnum) AS column_types
  FROM rel r
  JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
  JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_type b ON t.typtype = 'd' AND b.oid = t.typbasetype
  GROUP BY a.attrelid
), totals AS (
  SELECT s.root,
    CASE WHEN bool_or(s.relid IN (SELECT b.oid FROM blocked b)) THEN NULL
      ELSE sum(CASE WHEN s.relid IN (SELECT b.oid FROM blocked b) THEN 0 ELSE pg_total_relation_size(s.relid) END)
    END AS size_bytes,
    sum(l.reltuples) FILTER (WHERE l.reltuples >= 0) AS leaf_tuples,
    sum(pg_stat_get_tuples_inserted(s.relid)) AS inserts,
    sum(pg_stat_get_tuples_updated(s.relid)) AS updates,
    sum(pg_stat_get_tuples_deleted(s.relid)) AS deletes,
    max(greatest(pg_stat_get_last_analyze_time(s.relid), pg_stat_get_last_autoanalyze_time(s.relid))) AS last_analyzed_at
  FROM storage s JOIN pg_class l ON l.oid = s.relid
  GROUP BY s.root
)
SELECT r.nspname AS schema, r.relname AS name, r.relkind::text AS relkind,
  CASE
    WHEN r.relkind = 'v' THEN NULL
    WHEN r.relkind = 'p' AND r.reltuples < 0 THEN t.leaf_tuples
    WHEN r.reltuples < 0 THEN NULL
    ELSE r.reltuples
  END::float8 AS row_estimate,
  CASE WHEN r.relkind IN ('r', 'm', 'p') THEN CASE WHEN t.root IS NULL THEN 0 ELSE t.size_bytes END END::int8 AS size_bytes,
  CASE WHEN r.relkind IN ('r', 'm', 'p') THEN coalesce(t.inserts, 0) END::int8 AS inserts,
  CASE WHEN r.relkind IN ('r', 'm', 'p') THEN coalesce(t.updates, 0) END::int8 AS updates,
  CASE WHEN r.relkind IN ('r', 'm', 'p') THEN coalesce(t.deletes, 0) END::int8 AS deletes,
  t.last_analyzed_at,
  coalesce(c.columns, '[]'::json) AS columns,
  -- text, not json: the client keeps it unparsed (see ListedColumns)
  coalesce(c.column_types, '[]'::json)::text AS column_types
FROM rel r
LEFT JOIN totals t ON t.root = r.oid
LEFT JOIN cols c ON c.oid = r.oid
ORDER BY r.nspname, r.relname`;

const SELECT_TABLE_COLUMNS = `
SELECT n.nspname AS schema, c.relname AS table_name, a.attname AS name,
  format_type(a.atttypid, a.atttypmod) AS type, NOT a.attnotnull AS nullable, a.attnum::int AS position,
  coalesce(b.typcategory, t.typcategory)::text AS category, coalesce(b.typname, t.typname)::text AS base_type
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_type b ON t.typtype = 'd' AND b.oid = t.typbasetype
WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
ORDER BY a.attnum`;

/** Every relation with its statistics and columns (in order; empty for a relation without any). */
export async function selectRelations(client: StatementClient, schemas: readonly string[] | null): Promise<RelationRow[]> {
  const result = await client.query<RelationRow>(SELECT_RELATIONS, [schemas]);
  return result.rows;
}

/** Columns of one relation, in order; empty when the relation does not exist or is not visible. */
export async function selectTableColumns(client: StatementClient, table: TableRef): Promise<PostgresColumn[]> {
  const result = await client.query<ColumnRow>(SELECT_TABLE_COLUMNS, [table.schema, table.name]);
  return result.rows.map(toColumn);
}

/** The catalog statement's rows as tables. */
export async function readCatalog(client: StatementClient, schemas: readonly string[] | null): Promise<PostgresCatalogTable[]> {
  const relations = await selectRelations(client, schemas);
  return relations.map(toCatalogTable);
}

/** A map key for a table; NUL cannot occur in Postgres names, so it cannot collide. */
export function tableKey(table: TableRef): string {
  return `${table.schema}\u0000${table.name}`;
}

/** Listed columns with their parsed types, for building a statement against the table. */
export function withTypes(listed: ListedColumns): PostgresColumn[] {
  const types = JSON.parse(listed.typesJson) as Array<[string, string]>;
  // Both lists are aggregated over the same attributes in the same order.
  return listed.columns.map((column, index) => {
    const [category, baseType] = types[index] as [string, string];
    return { ...column, category, baseType };
  });
}

function toColumn(row: ColumnRow): PostgresColumn {
  return {
    name: row.name,
    type: row.type,
    nullable: row.nullable,
    position: row.position,
    category: row.category,
    baseType: row.base_type,
  };
}

function toCatalogTable(row: RelationRow): PostgresCatalogTable {
  const kind = RELATION_KINDS[row.relkind] ?? 'table';
  const hasWrites = row.inserts !== null || row.updates !== null || row.deletes !== null;
  return {
    schema: row.schema,
    name: row.name,
    kind,
    columns: row.columns,
    columnTypes: row.column_types,
    rowEstimate: row.row_estimate,
    sizeBytes: row.size_bytes === null ? null : Number(row.size_bytes),
    writes: hasWrites ? { inserts: Number(row.inserts ?? 0), updates: Number(row.updates ?? 0), deletes: Number(row.deletes ?? 0) } : null,
    lastAnalyzedAt: row.last_analyzed_at,
  };
}
