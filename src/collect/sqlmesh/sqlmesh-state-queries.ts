// Every statement pipewarden sends to a SQLMesh state database. The schema name is the user's
// (quoted with the one helper); everything else travels as parameters. Rows are read as SQLMesh
// wrote them: JSON documents stay text here and are parsed leniently in parse-sqlmesh-state.ts,
// and `_intervals` rows come back whole (to_jsonb) because their columns grew over the versions
// (is_pending_restatement since v66, last_altered_ts since v99) and a read must not name a column
// an older state database lacks.

import { quoteIdentifier } from '../../warehouse/quote.ts';
import type { StatementClient } from '../../warehouse/postgres-session.ts';

export interface VersionRow {
  schema_version: number | string | null;
  sqlmesh_version: string | null;
}

export interface EnvironmentRow {
  name: string;
  snapshots: string | null;
  finalized_ts: string | number | null;
}

export interface SnapshotRow {
  name: string;
  identifier: string;
  version: string;
  kind_name: string | null;
  snapshot: string | null;
  updated_ts: string | number | null;
}

export interface IntervalRow {
  /** The whole `_intervals` row as JSON, whatever columns this state version has. */
  interval: Record<string, unknown>;
}

function stateTable(schema: string, table: string): string {
  return `${quoteIdentifier(schema)}.${quoteIdentifier(table)}`;
}

export async function selectVersions(client: StatementClient, schema: string): Promise<VersionRow[]> {
  const result = await client.query<VersionRow>(`select schema_version, sqlmesh_version from ${stateTable(schema, '_versions')}`);
  return result.rows;
}

export async function selectEnvironment(client: StatementClient, schema: string, name: string): Promise<EnvironmentRow | undefined> {
  const result = await client.query<EnvironmentRow>(`select name, snapshots, finalized_ts from ${stateTable(schema, '_environments')} where name = $1`, [name]);
  return result.rows[0];
}

export async function selectEnvironmentNames(client: StatementClient, schema: string): Promise<string[]> {
  const result = await client.query<{ name: string }>(`select name from ${stateTable(schema, '_environments')} order by name`);
  return result.rows.map((row) => row.name);
}

/** The snapshots of these (name, version) pairs; several identifiers may share a version. */
export async function selectSnapshotsByVersion(client: StatementClient, schema: string, names: readonly string[], versions: readonly string[]): Promise<SnapshotRow[]> {
  const result = await client.query<SnapshotRow>(
    `select s.name, s.identifier, s.version, s.kind_name, s.snapshot, s.updated_ts
       from ${stateTable(schema, '_snapshots')} s
       join unnest($1::text[], $2::text[]) as wanted(name, version) on s.name = wanted.name and s.version = wanted.version`,
    [names, versions],
  );
  return result.rows;
}

/** The prod (non-dev) interval records of these (name, version) pairs, compacted or not. */
export async function selectProdIntervals(client: StatementClient, schema: string, names: readonly string[], versions: readonly string[]): Promise<IntervalRow[]> {
  const result = await client.query<IntervalRow>(
    `select to_jsonb(i) as interval
       from ${stateTable(schema, '_intervals')} i
       join unnest($1::text[], $2::text[]) as wanted(name, version) on i.name = wanted.name and i.version = wanted.version
      where not i.is_dev`,
    [names, versions],
  );
  return result.rows;
}
