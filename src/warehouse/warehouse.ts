// The Warehouse port: everything the rest of pipewarden may ask of a warehouse. Pure types, no
// driver imports, so `collect/` and the CLI stay independent of the engine and later adapters
// (Snowflake, BigQuery) only have to implement this interface.
//
// Words: a *table ref* names a relation by schema and name (raw, unquoted identifiers); the
// *catalog* is the list of relations with their columns and cheap statistics; a *bucket profile*
// is one time bucket of a table's rows with its row count and per-column measures.

/** A relation named by its raw (unquoted, case-preserving) schema and name. */
export interface TableRef {
  schema: string;
  name: string;
}

export type RelationKind = 'table' | 'partitioned_table' | 'view' | 'materialized_view' | 'foreign_table';

export interface CatalogColumn {
  name: string;
  /** The engine's own spelling of the type, e.g. `numeric(12,2)` or `timestamp with time zone`. */
  type: string;
  nullable: boolean;
  /** 1-based ordinal position in the relation. */
  position: number;
}

/** Cumulative write counts since the engine's statistics were last reset. */
export interface WriteCounters {
  inserts: number;
  updates: number;
  deletes: number;
}

export interface CatalogTable extends TableRef {
  kind: RelationKind;
  columns: CatalogColumn[];
  /** The engine's row estimate; null when it has never estimated (never analyzed, or a view). */
  rowEstimate: number | null;
  /** Total size on disk including indexes and toast; null where it has no storage. */
  sizeBytes: number | null;
  /** Null for relations without write statistics (views, foreign tables). */
  writes: WriteCounters | null;
  lastAnalyzedAt?: Date | null;
}

export interface ListTablesOptions {
  /** Only these schemas. Omitted: every schema except the engine's system ones. */
  schemas?: readonly string[];
}

/**
 * What can be measured about one column within a bucket. Numeric measures (`zero_fraction`,
 * `mean`, `stddev`) need a numeric column; `avg_length` needs a text column; `min`/`max` need
 * a numeric or time column (times come back as epoch milliseconds).
 */
export type ColumnMeasure =
  | 'null_fraction'
  | 'zero_fraction'
  | 'distinct_count'
  | 'mean'
  | 'stddev'
  | 'min'
  | 'max'
  | 'avg_length';

export const COLUMN_MEASURES: readonly ColumnMeasure[] = [
  'null_fraction',
  'zero_fraction',
  'distinct_count',
  'mean',
  'stddev',
  'min',
  'max',
  'avg_length',
];

export interface ColumnProfileRequest {
  column: string;
  /** The measures to take; `fitting` takes every measure the column's type allows. */
  measures: ColumnMeasure[] | 'fitting';
  /** Quantiles (0–1) of a numeric column; ignored for other types. */
  quantiles?: number[];
  /** Keep this many most frequent non-NULL values (of any type, compared as text). */
  topK?: number;
}

/** One of a column's most frequent values in a bucket: the value as text, and its row count. */
export interface TopValue {
  value: string;
  count: number;
}

export interface BucketQuery {
  table: TableRef;
  /** Column rows are bucketed by: a timestamp, timestamptz, date, or text holding timestamps. */
  timeColumn: string;
  /** Bucket width; buckets start at UTC epoch multiples of it. */
  bucketMs: number;
  /** Inclusive lower bound of the time column. */
  from: Date;
  /** Exclusive upper bound of the time column. */
  to: Date;
  columns?: ColumnProfileRequest[];
}

export interface BucketProfile {
  /** Start of the bucket (a UTC epoch multiple of bucketMs). */
  bucket: Date;
  rowCount: number;
  /** Newest value of the time column within the bucket. */
  maxTimestamp: Date | null;
  /** Per requested column, the requested measures; null when there was nothing to measure. */
  columns: Record<string, Partial<Record<ColumnMeasure, number | null>>>;
  /** Per column asked for quantiles: quantile as written (`"0.5"`) → value; absent when none were asked. */
  quantiles?: Record<string, Record<string, number | null>>;
  /** Per column asked for top-k: its most frequent values, most frequent first; absent when none were asked. */
  topValues?: Record<string, TopValue[]>;
}

export interface Warehouse {
  /** The configured name; the first part of asset keys. */
  readonly name: string;
  /** Relations with columns and statistics, in a constant number of statements whatever their count. */
  listTables(options?: ListTablesOptions): Promise<CatalogTable[]>;
  /**
   * Row counts and column measures per time bucket over [from, to), in one statement (one scan),
   * quantiles and top-k value counts included.
   * Only buckets holding rows are returned, oldest first; the caller fills the gaps with zeros.
   */
  profileBuckets(query: BucketQuery): Promise<BucketProfile[]>;
  /** Newest value of a time column over the whole table; null when the table is empty. */
  maxTimestamp(table: TableRef, column: string): Promise<Date | null>;
  /** Cheap reachability probe (for /readyz). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
