// dbt's own configuration as pipewarden monitors, so a dbt user gets table checks without writing
// them twice: a source with `loaded_at_field` and `freshness` becomes a freshness check on its
// table (no `dbt source freshness` run needed), `meta.owner` (or the group's owner) owns it, and
// `meta.pipewarden` tunes a node's checks in the monitor's own words. Every monitor goes through
// the config's `monitorSchema`, so defaults and validation are those of a hand-written one.
// Pure: manifest in, monitors and problems out.

import type { z } from 'zod';
import { describeIssues, type IssueContext } from '../../config/describe-issues.ts';
import { formatPath, valueAtPath, type DocumentPath } from '../../config/document-path.ts';
import { monitorSchema, type ConfigInput, type MonitorConfig } from '../../config/schema.ts';
import { assetKeyFor, type DbtAssetMapping } from './asset-key-for.ts';
import type { DbtManifest, DbtNode } from './dbt-manifest.ts';
import type { FreshnessRule } from './lenient-fields.ts';

export interface DbtMonitorsInput {
  manifest: DbtManifest;
  /** The manifest's path, for problems. */
  manifestFile: string;
  mapping: DbtAssetMapping;
}

export interface DbtMonitors {
  /** In manifest order; after the configured monitors, so a hand-written one wins. */
  monitors: MonitorConfig[];
  /** A node's `meta.pipewarden` that could not be used (that node's tuning is skipped). */
  problems: string[];
  /** What could not be honoured but is not wrong (said once per manifest). */
  notes: string[];
}

type MonitorInput = NonNullable<ConfigInput['monitors']>[number];

const TUNED_TYPES = new Set(['model', 'seed', 'snapshot', 'source']);
/** Checks `meta.pipewarden` may switch off with `false`. */
const CHECK_KEYS = ['freshness', 'volume', 'distribution'] as const;
const PERIOD_UNITS: Readonly<Record<string, string>> = { minute: 'm', hour: 'h', day: 'd' };

// What `meta.pipewarden` may say: a monitor without its assets (the node is the asset).
const tuningSchema = monitorSchema.omit({ assets: true, exclude: true });

export function deriveDbtMonitors(input: DbtMonitorsInput): DbtMonitors {
  const result: DbtMonitors = { monitors: [], problems: [], notes: [] };
  const nodes = [...input.manifest.nodes.values()].filter((node) => node.enabled && TUNED_TYPES.has(node.resourceType));
  if (input.mapping.warehouse === undefined) {
    if (nodes.some((node) => isSourceWithFreshness(node) || isTuning(node.pipewarden)))
      result.notes.push(`${input.manifestFile}: source freshness and meta.pipewarden become table checks only when the dbt target names its warehouse; set \`warehouse\` on this dbt target`);
    return result;
  }
  const filtered: string[] = [];
  for (const node of nodes) {
    const asset = assetKeyFor(node, input.mapping);
    // Not a relation (ephemeral, or no schema): there is no table to check.
    if (asset === node.uniqueId) continue;
    const monitor = nodeMonitor(node, asset, input.manifestFile, result.problems);
    if (monitor === null) continue;
    if (node.freshness?.filter && monitor.freshness !== undefined) filtered.push(node.uniqueId);
    result.monitors.push(monitor);
  }
  if (filtered.length > 0) {
    result.notes.push(
      `${input.manifestFile}: the freshness \`filter\` of ${filtered.join(', ')} is not applied: pipewarden checks the newest loaded_at_field of the whole table`,
    );
  }
  return result;
}

function nodeMonitor(node: DbtNode, asset: string, manifestFile: string, problems: string[]): MonitorConfig | null {
  if (node.pipewarden === false || (isRecord(node.pipewarden) && node.pipewarden.enabled === false)) return null;
  const derived: MonitorInput = { assets: [escapeGlob(asset)], ...(node.owner === null ? {} : { owner: node.owner }) };
  const freshness = derivedFreshness(node);
  if (freshness !== undefined) derived.freshness = freshness;
  const tuning = readTuning(node, manifestFile, problems);
  const merged = tuning === undefined ? derived : mergeTuning(derived, tuning);
  if (!hasCheck(merged)) return null;
  const parsed = monitorSchema.safeParse(merged);
  if (parsed.success) return parsed.data;
  // Each part was valid alone; only their sum can fail here (e.g. tuning a check dbt did not derive).
  problems.push(...issueMessages(parsed.error.issues, monitorSchema, merged, `${manifestFile}: ${node.uniqueId}: meta.pipewarden`));
  return tuning === undefined ? null : (monitorSchema.safeParse(derived).data ?? null);
}

/** The freshness dbt configures for a source, as a monitor's freshness settings. */
function derivedFreshness(node: DbtNode): MonitorInput['freshness'] {
  if (!isSourceWithFreshness(node) || node.loadedAtField === null || node.freshness === null) return undefined;
  const warn = ruleDuration(node.freshness.warnAfter);
  const error = ruleDuration(node.freshness.errorAfter);
  if (warn === undefined && error === undefined) return undefined;
  return { column: node.loadedAtField, ...(warn === undefined ? {} : { warn_after: warn }), ...(error === undefined ? {} : { error_after: error }) };
}

function isSourceWithFreshness(node: DbtNode): boolean {
  return node.resourceType === 'source' && node.loadedAtField !== null && node.freshness !== null;
}

/** `{ count: 12, period: hour }` → `"12h"`; undefined for a period dbt does not define. */
function ruleDuration(rule: FreshnessRule | null): string | undefined {
  if (rule === null || !(rule.count > 0)) return undefined;
  const unit = PERIOD_UNITS[rule.period];
  return unit === undefined ? undefined : `${rule.count}${unit}`;
}

/** The node's `meta.pipewarden` when it is valid tuning; otherwise a problem and undefined. */
function readTuning(node: DbtNode, manifestFile: string, problems: string[]): Record<string, unknown> | undefined {
  const raw = node.pipewarden;
  if (raw === undefined || raw === null || raw === true) return undefined;
  const where = `${manifestFile}: ${node.uniqueId}: meta.pipewarden`;
  if (!isRecord(raw)) {
    problems.push(`${where}: expected a mapping of monitor settings (freshness, volume, distribution, schema, owner, page_on) or false; the node keeps its derived checks`);
    return undefined;
  }
  const { enabled: _enabled, ...tuning } = raw;
  // `false` switches off a check dbt would derive; it is not a monitor setting, so it is checked apart.
  const settings = Object.fromEntries(Object.entries(tuning).filter(([key, value]) => !(value === false && (CHECK_KEYS as readonly string[]).includes(key))));
  const parsed = tuningSchema.safeParse(settings);
  if (parsed.success) return tuning;
  problems.push(...issueMessages(parsed.error.issues, tuningSchema, settings, where).map((message) => `${message}; this node's meta.pipewarden is not applied`));
  return undefined;
}

/** Tuning over the derived monitor: a check's settings merge into the derived ones, `false` drops the check. */
function mergeTuning(derived: MonitorInput, tuning: Record<string, unknown>): MonitorInput {
  const merged: Record<string, unknown> = { ...derived };
  for (const [key, value] of Object.entries(tuning)) {
    const base = merged[key];
    if (value === false && (CHECK_KEYS as readonly string[]).includes(key)) delete merged[key];
    else if (isRecord(value) && isRecord(base)) merged[key] = { ...base, ...value };
    // `freshness: true` asks for the check with defaults; dbt's thresholds are already more.
    else if (value === true && isRecord(base)) continue;
    else merged[key] = value;
  }
  return merged as MonitorInput;
}

function hasCheck(monitor: MonitorInput): boolean {
  return monitor.freshness !== undefined || monitor.volume !== undefined || monitor.distribution !== undefined || monitor.schema === true;
}

function isTuning(value: unknown): boolean {
  return value !== undefined && value !== null && value !== false;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function issueMessages(issues: readonly z.core.$ZodIssue[], schema: z.ZodType, input: unknown, where: string): string[] {
  const context: IssueContext = {
    schema,
    input,
    writtenText: (path) => {
      const value = valueAtPath(input, path);
      return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
    },
    hasKey: (path) => hasKey(input, path),
  };
  return describeIssues(issues, context).map((problem) => `${where}${pathSuffix(problem.path)}: ${problem.message}`);
}

function hasKey(input: unknown, path: DocumentPath): boolean {
  if (path.length === 0) return true;
  const parent = valueAtPath(input, path.slice(0, -1));
  const key = path[path.length - 1];
  return isRecord(parent) && typeof key === 'string' && Object.hasOwn(parent, key);
}

function pathSuffix(path: DocumentPath): string {
  const text = formatPath(path);
  return text === '' ? '' : text.startsWith('[') ? text : `.${text}`;
}

/**
 * A monitor's assets are globs; a table named with glob characters (`*`, `[`, `{`…) must match
 * only itself, so they are escaped. Quotes too: picomatch reads a quoted run as a literal, so an
 * unescaped `"` changes how what follows it is read.
 */
export function escapeGlob(key: string): string {
  return key.replace(/[\\*?[\]{}()!+@|"'`]/g, '\\$&');
}
