// SQLMesh's state tables as state schema version 60 created them (the columns documented in
// shared/fixtures/notes/sqlmesh_state_tables.md, none of the later ones), filled from the real
// dumps in test/fixtures/sqlmesh/. The dumps have no prod environment, so `staging` is promoted as
// prod, the way `sqlmesh plan` would leave it.

import { readFileSync } from 'node:fs';
import type pg from 'pg';
import { quoteIdentifier } from '../../../src/warehouse/quote.ts';

const FIXTURES = new URL('../../fixtures/sqlmesh/', import.meta.url);

const DDL_V60 = [
  `create table $S._versions (schema_version int, sqlglot_version text, sqlmesh_version text)`,
  `create table $S._snapshots (name text not null, identifier text not null, version text not null, snapshot text, kind_name text,
     updated_ts bigint, unpaused_ts bigint, ttl_ms bigint, unrestorable boolean, primary key (name, identifier))`,
  `create index on $S._snapshots (name, version)`,
  `create table $S._intervals (id text primary key, created_ts bigint not null, name text not null, identifier text, version text not null,
     start_ts bigint not null, end_ts bigint not null, is_dev boolean not null, is_removed boolean not null, is_compacted boolean not null)`,
  `create table $S._environments (name text primary key, snapshots text, start_at text, end_at text, plan_id text, previous_plan_id text,
     expiration_ts bigint, finalized_ts bigint, promoted_snapshot_ids text, suffix_target text, catalog_name_override text,
     previous_finalized_snapshots text, normalize_name boolean, requirements text)`,
];

/** Day boundaries of the dumps' intervals: they cover [2023-01-01, 2023-01-08). */
export const DAY = 86_400_000;
export const JAN_1 = Date.UTC(2023, 0, 1);
export const day = (n: number): number => JAN_1 + (n - 1) * DAY;
/** The dumps' interval rows were written (created_ts) at 2025-09-05; records of the tests come after. */
export const written = (n: number): number => 1_757_115_220_260 + n * 1_000;

type ColumnDump = Record<string, Record<string, unknown>>;

function readDump(table: string): ColumnDump {
  return JSON.parse(readFileSync(new URL(`${table}.json`, FIXTURES), 'utf8')) as ColumnDump;
}

/** Rows of a pandas column-oriented dump. */
export function dumpRows(table: string): Record<string, unknown>[] {
  const dump = readDump(table);
  const columns = Object.keys(dump);
  const indexes = Object.keys(dump[columns[0] as string] ?? {});
  return indexes.map((index) => Object.fromEntries(columns.map((column) => [column, dump[column]?.[index] ?? null])));
}

export async function insertRow(pool: pg.Pool, schema: string, table: string, row: Record<string, unknown>): Promise<void> {
  const columns = Object.keys(row);
  const sql = `insert into ${quoteIdentifier(schema)}.${quoteIdentifier(table)} (${columns.map(quoteIdentifier).join(', ')}) values (${columns.map((_, i) => `$${i + 1}`).join(', ')})`;
  await pool.query(sql, columns.map((column) => row[column]));
}

/** Creates the v60 state tables in `schema`, loads the dumps and promotes staging as prod. */
export async function loadSqlmeshFixture(pool: pg.Pool, schema: string): Promise<void> {
  await pool.query(`create schema ${quoteIdentifier(schema)}`);
  for (const statement of DDL_V60) await pool.query(statement.replaceAll('$S', quoteIdentifier(schema)));
  for (const table of ['_versions', '_snapshots', '_intervals', '_environments']) {
    for (const row of dumpRows(table)) await insertRow(pool, schema, table, row);
  }
  const staging = dumpRows('_environments').find((row) => row['name'] === 'staging');
  await insertRow(pool, schema, '_environments', { ...staging, name: 'prod', expiration_ts: null, end_at: null, finalized_ts: Date.UTC(2023, 0, 8) });
}

let nextId = 0;

export interface IntervalInsert {
  name: string;
  version: string;
  identifier?: string;
  start: number;
  end: number;
  createdTs: number;
  isDev?: boolean;
  isRemoved?: boolean;
  isCompacted?: boolean;
}

export async function insertInterval(pool: pg.Pool, schema: string, interval: IntervalInsert): Promise<void> {
  nextId += 1;
  await insertRow(pool, schema, '_intervals', {
    id: `test${nextId}`,
    created_ts: interval.createdTs,
    name: interval.name,
    identifier: interval.identifier ?? null,
    version: interval.version,
    start_ts: interval.start,
    end_ts: interval.end,
    is_dev: interval.isDev ?? false,
    is_removed: interval.isRemoved ?? false,
    is_compacted: interval.isCompacted ?? false,
  });
}

/** Name and version of a model in the promoted prod environment, by its quoted state name. */
export function prodSnapshot(quotedName: string): { name: string; version: string } {
  const staging = dumpRows('_environments').find((row) => row['name'] === 'staging');
  const entries = JSON.parse(String(staging?.['snapshots'])) as { name: string; version: string }[];
  const entry = entries.find((candidate) => candidate.name === quotedName);
  if (entry === undefined) throw new Error(`no ${quotedName} in the fixture's staging environment`);
  return { name: entry.name, version: entry.version };
}
