// catalog.json (v1, from `dbt docs generate`) → the relations dbt found in the warehouse and
// their columns, for nodes and sources alike.

import { z } from 'zod';
import { parseArtifact } from './parse-artifact.ts';
import { optionalNumber, optionalString } from './lenient-fields.ts';

export interface DbtCatalogColumn {
  name: string;
  type: string | null;
  index: number | null;
}

export interface DbtCatalogEntry {
  uniqueId: string;
  database: string | null;
  schema: string;
  name: string;
  /** table, view, BASE TABLE… as the warehouse names it. */
  type: string | null;
  /** In the warehouse's column order. */
  columns: DbtCatalogColumn[];
}

export interface DbtCatalog {
  version: number | null;
  generatedAt: string | null;
  /** Nodes and sources by unique_id. */
  entries: ReadonlyMap<string, DbtCatalogEntry>;
}

const columnSchema = z.looseObject({ name: z.string(), type: optionalString, index: optionalNumber });

const entrySchema = z.looseObject({
  unique_id: z.string(),
  metadata: z.looseObject({ database: optionalString, schema: z.string(), name: z.string(), type: optionalString }),
  columns: z.record(z.string(), columnSchema).nullish().transform((columns) => columns ?? {}),
});

const catalogSchema = z.looseObject({
  metadata: z.looseObject({ generated_at: optionalString }).nullish().catch(null),
  nodes: z.record(z.string(), entrySchema),
  sources: z.record(z.string(), entrySchema).nullish().transform((sources) => sources ?? {}),
});

export interface ParsedCatalog {
  catalog: DbtCatalog;
  warnings: string[];
}

export function parseCatalog(file: string, text: string): ParsedCatalog {
  const { value, version, warnings } = parseArtifact(file, text, 'catalog', catalogSchema);
  const entries = new Map<string, DbtCatalogEntry>();
  for (const raw of [...Object.values(value.nodes), ...Object.values(value.sources)]) {
    const columns = Object.values(raw.columns)
      .map((column) => ({ name: column.name, type: column.type, index: column.index }))
      .sort((a, b) => (a.index ?? Number.MAX_SAFE_INTEGER) - (b.index ?? Number.MAX_SAFE_INTEGER));
    entries.set(raw.unique_id, {
      uniqueId: raw.unique_id,
      database: raw.metadata.database,
      schema: raw.metadata.schema,
      name: raw.metadata.name,
      type: raw.metadata.type,
      columns,
    });
  }
  return { catalog: { version, generatedAt: value.metadata?.generated_at ?? null, entries }, warnings };
}
