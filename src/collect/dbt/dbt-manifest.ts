// manifest.json (v7–v12) → the nodes, sources and exposures pipewarden needs: where each lives in
// the warehouse, what it depends on, who owns it, and for tests what they test and where their
// compiled SQL is. Only those fields are validated; everything else dbt writes is ignored.

import { z } from 'zod';
import { parseArtifact } from './parse-artifact.ts';
import {
  dependsOnNodes,
  freshnessCriteria,
  optionalBoolean,
  optionalRecord,
  optionalString,
  stringList,
  type FreshnessCriteria,
} from './lenient-fields.ts';

export interface DbtTestInfo {
  /** The generic test's name (`not_null`, `unique`…); null for singular tests. */
  testName: string | null;
  columnName: string | null;
  attachedNode: string | null;
  /**
   * The node the test is about: attached_node (dbt 1.5+), else the node its `model` argument refers
   * to, else its first non-source dependency, else its first.
   */
  testedNode: string | null;
}

export interface DbtNode {
  uniqueId: string;
  /** model, seed, snapshot, test, source, analysis, operation… as dbt writes it. */
  resourceType: string;
  name: string;
  packageName: string | null;
  database: string | null;
  schema: string | null;
  /** Models, seeds and snapshots: the relation's name. */
  alias: string | null;
  /** Sources: the relation's name. */
  identifier: string | null;
  relationName: string | null;
  dependsOn: string[];
  materialized: string | null;
  enabled: boolean;
  tags: string[];
  /** `config.meta` and `meta` merged (manifest versions put it in one or the other, or both). */
  meta: Record<string, unknown>;
  /** `meta.owner`, else the owner of the node's group. */
  owner: string | null;
  /** `meta.pipewarden` as written: per-node tuning, read by whoever applies it. */
  pipewarden: unknown;
  group: string | null;
  originalFilePath: string | null;
  /** Where `dbt compile` writes the node's SQL, relative to the project: `target/compiled/…`. */
  compiledPath: string | null;
  loadedAtField: string | null;
  freshness: FreshnessCriteria | null;
  test: DbtTestInfo | null;
}

export interface DbtExposure {
  uniqueId: string;
  name: string;
  label: string | null;
  /** dashboard, notebook, analysis, ml or application. */
  type: string | null;
  owner: { name: string | null; email: string | null };
  url: string | null;
  maturity: string | null;
  dependsOn: string[];
}

export interface DbtManifest {
  version: number | null;
  generatedAt: string | null;
  projectName: string | null;
  /** Every node, source and unit test by unique_id. */
  nodes: ReadonlyMap<string, DbtNode>;
  exposures: ReadonlyMap<string, DbtExposure>;
}

const person = z
  .looseObject({ name: optionalString, email: optionalString })
  .nullish()
  .catch(null)
  .transform((owner) => ({ name: owner?.name ?? null, email: owner?.email ?? null }));

const nodeConfig = z
  .looseObject({
    materialized: optionalString,
    enabled: optionalBoolean,
    meta: optionalRecord,
    tags: stringList,
    loaded_at_field: optionalString,
    freshness: freshnessCriteria,
  })
  .nullish()
  .catch(null);

const testMetadata = z
  .looseObject({ name: optionalString, kwargs: z.looseObject({ column_name: optionalString, model: optionalString }).nullish().catch(null) })
  .nullish()
  .catch(null);

const nodeSchema = z.looseObject({
  unique_id: z.string(),
  resource_type: z.string(),
  name: z.string(),
  package_name: optionalString,
  database: optionalString,
  schema: optionalString,
  alias: optionalString,
  identifier: optionalString,
  relation_name: optionalString,
  depends_on: dependsOnNodes,
  config: nodeConfig,
  tags: stringList,
  meta: optionalRecord,
  group: optionalString,
  original_file_path: optionalString,
  path: optionalString,
  compiled_path: optionalString,
  loaded_at_field: optionalString,
  freshness: freshnessCriteria,
  test_metadata: testMetadata,
  attached_node: optionalString,
  column_name: optionalString,
});

const exposureSchema = z.looseObject({
  unique_id: z.string(),
  name: z.string(),
  label: optionalString,
  type: optionalString,
  owner: person,
  url: optionalString,
  maturity: optionalString,
  depends_on: dependsOnNodes,
});

const groupSchema = z.looseObject({ name: z.string(), package_name: optionalString, owner: person });

const manifestSchema = z.looseObject({
  metadata: z.looseObject({ generated_at: optionalString, project_name: optionalString }).nullish().catch(null),
  nodes: z.record(z.string(), nodeSchema),
  sources: z.record(z.string(), nodeSchema).nullish().transform((sources) => sources ?? {}),
  exposures: z.record(z.string(), exposureSchema).nullish().transform((exposures) => exposures ?? {}),
  // Unit tests (v12) check a model's logic on fixed inputs; a failing one is a finding on the model.
  unit_tests: z.record(z.string(), nodeSchema).nullish().transform((tests) => tests ?? {}),
  // Groups (v10+) are only an owner lookup; a malformed one costs owners, not the manifest.
  groups: z.record(z.string(), groupSchema).nullish().catch(null).transform((groups) => groups ?? {}),
});

type RawNode = z.output<typeof nodeSchema>;

export interface ParsedManifest {
  manifest: DbtManifest;
  warnings: string[];
}

export function parseManifest(file: string, text: string): ParsedManifest {
  const { value, version, warnings } = parseArtifact(file, text, 'manifest', manifestSchema);
  const groupOwners = new Map<string, string>();
  for (const group of Object.values(value.groups)) {
    const owner = group.owner.name ?? group.owner.email;
    if (owner) groupOwners.set(group.name, owner);
  }
  const nodes = new Map<string, DbtNode>();
  for (const raw of [...Object.values(value.nodes), ...Object.values(value.sources), ...Object.values(value.unit_tests)]) {
    nodes.set(raw.unique_id, normaliseNode(raw, groupOwners));
  }
  const exposures = new Map<string, DbtExposure>();
  for (const raw of Object.values(value.exposures)) {
    exposures.set(raw.unique_id, {
      uniqueId: raw.unique_id,
      name: raw.name,
      label: raw.label,
      type: raw.type,
      owner: raw.owner,
      url: raw.url,
      maturity: raw.maturity,
      dependsOn: raw.depends_on,
    });
  }
  const manifest: DbtManifest = {
    version,
    generatedAt: value.metadata?.generated_at ?? null,
    projectName: value.metadata?.project_name ?? null,
    nodes,
    exposures,
  };
  return { manifest, warnings };
}

function normaliseNode(raw: RawNode, groupOwners: ReadonlyMap<string, string>): DbtNode {
  const meta = { ...(raw.config?.meta ?? {}), ...raw.meta };
  const group = raw.group;
  return {
    uniqueId: raw.unique_id,
    resourceType: raw.resource_type,
    name: raw.name,
    packageName: raw.package_name,
    database: raw.database,
    schema: raw.schema,
    alias: raw.alias,
    identifier: raw.identifier,
    relationName: raw.relation_name,
    dependsOn: raw.depends_on,
    materialized: raw.config?.materialized ?? null,
    enabled: raw.config?.enabled ?? true,
    tags: [...new Set([...raw.tags, ...(raw.config?.tags ?? [])])],
    meta,
    owner: ownerName(meta.owner) ?? (group ? (groupOwners.get(group) ?? null) : null),
    pipewarden: meta.pipewarden,
    group,
    originalFilePath: raw.original_file_path,
    compiledPath: raw.compiled_path ?? compiledPathOf(raw),
    // v12 may carry these under config only; the top-level copy wins when both are set.
    loadedAtField: raw.loaded_at_field ?? raw.config?.loaded_at_field ?? null,
    freshness: raw.freshness ?? raw.config?.freshness ?? null,
    test: raw.resource_type === 'test' || raw.resource_type === 'unit_test' ? testInfo(raw) : null,
  };
}

function ownerName(owner: unknown): string | null {
  if (typeof owner === 'string' && owner.trim() !== '') return owner;
  if (Array.isArray(owner) && typeof owner[0] === 'string') return owner[0];
  return null;
}

function testInfo(raw: RawNode): DbtTestInfo {
  const firstModel = raw.depends_on.find((id) => !id.startsWith('source.'));
  return {
    testName: raw.test_metadata?.name ?? null,
    columnName: raw.column_name ?? raw.test_metadata?.kwargs?.column_name ?? null,
    attachedNode: raw.attached_node,
    testedNode: raw.attached_node ?? referencedNode(raw) ?? firstModel ?? raw.depends_on[0] ?? null,
  };
}

// Before attached_node, a generic test's `model` argument was the only record of which node it
// tests: `{{ get_where_subquery(ref('orders')) }}`. A relationships test depends on two models, and
// the first of its dependencies is often the wrong one.
function referencedNode(raw: RawNode): string | null {
  const model = raw.test_metadata?.kwargs?.model;
  const ref = model ? /\bref\(([^)]*)\)/.exec(model) : null;
  const name = ref ? [...(ref[1] ?? '').matchAll(/['"]([^'"]+)['"]/g)].at(-1)?.[1] : undefined;
  if (!name) return null;
  return raw.depends_on.find((id) => !id.startsWith('source.') && id.split('.')[2] === name) ?? null;
}

// dbt's own rule (ParsedNode.get_target_write_path): a node alone in its file compiles to the
// file's path; a node defined among others (a generic test in a .yml) to `<file>/<node path>`.
function compiledPathOf(raw: RawNode): string | null {
  if (!raw.package_name || !raw.original_file_path || !raw.path) return null;
  if (raw.resource_type === 'source' || raw.resource_type === 'seed' || raw.resource_type === 'unit_test') return null;
  const base = (path: string): string => path.slice(path.lastIndexOf('/') + 1);
  const path = base(raw.path) === base(raw.original_file_path) ? raw.original_file_path : `${raw.original_file_path}/${raw.path}`;
  return `target/compiled/${raw.package_name}/${path}`;
}
