// Turns the monitored assets of one warehouse into findings. Measuring is done here (it talks to
// the warehouse); judging is done by the pure functions in detect/.

import type { Logger } from 'pino';
import { globTargetsWarehouse } from '../config/asset-globs.ts';
import type { MonitorConfig } from '../config/schema.ts';
import type { PipewardenError } from '../errors.ts';
import type { TableChangeTimes } from '../store/table-state.ts';
import { checkId, type CheckKind, type Finding, type Observation } from '../types.ts';
import type { Warehouse } from '../warehouse/warehouse.ts';
import type { CatalogRecord } from './record-catalog.ts';
import { checkFreshness } from './freshness-check.ts';
import { checkSchema, droppedTableFindings } from './schema-check.ts';
import type { AssetSelection } from './asset-selection.ts';

export interface AssetCheckContext {
  warehouse: Warehouse;
  selection: AssetSelection;
  changes: ReadonlyMap<string, TableChangeTimes>;
  /** Schemas compared with the previous sweep's, and the tables that vanished since. */
  schema: CatalogRecord['schema'];
  /** Past update times of the assets whose freshness is judged by learned cadence. */
  updateTimes: ReadonlyMap<string, Date[]>;
  /** Observations measured while checking (newest timestamps), stored by the caller. */
  observations: Observation[];
  /** Only assets matching the CLI's --select. */
  selected: (asset: string) => boolean;
  now: Date;
  timezone?: string;
  signal: AbortSignal;
  logger: Logger;
}

export async function evaluateAssetChecks(context: AssetCheckContext, monitors: readonly MonitorConfig[]): Promise<Finding[]> {
  const findings: Finding[] = [];
  // A table under two monitors with the same check is measured once: the first monitor wins.
  const evaluated = new Set<string>();
  const firstTime = (kind: CheckKind, asset: string): boolean => {
    const id = checkId(kind, asset);
    if (evaluated.has(id)) return false;
    evaluated.add(id);
    return true;
  };
  for (const monitored of context.selection.assets) {
    if (context.signal.aborted) break;
    if (monitored.monitor.freshness !== undefined && firstTime('freshness', monitored.asset)) findings.push(await checkFreshness(context, monitored));
    if (monitored.monitor.schema && firstTime('schema', monitored.asset)) findings.push(checkSchema(monitored, context.schema));
  }
  findings.push(...droppedTableFindings(monitors, context.schema.vanished, context.selected));
  for (const index of context.selection.unmatchedMonitors) {
    const monitor = monitors[index] as MonitorConfig;
    const selectedGlobs = { ...monitor, assets: monitor.assets.filter((glob) => context.selected(glob)) };
    findings.push(...monitorFindings(selectedGlobs, context.warehouse.name, (glob) =>
      `no table matches ${glob} in warehouse ${context.warehouse.name} (monitors[${index}]): check the name, or the warehouse's \`schemas\` list`));
  }
  return findings;
}

/** `error` findings for every check of every monitor on a warehouse that could not be read. */
export function unmeasurableFindings(monitors: readonly MonitorConfig[], warehouse: string, error: PipewardenError): Finding[] {
  return monitors.flatMap((monitor) =>
    monitorFindings(monitor, warehouse, (glob) => `could not measure ${glob}: ${error.message} [${error.code}]`),
  );
}

function monitorFindings(monitor: MonitorConfig, warehouse: string, message: (glob: string) => string): Finding[] {
  const globs = monitor.assets.filter((glob) => globTargetsWarehouse(glob, warehouse));
  return configuredKinds(monitor).flatMap((kind) =>
    globs.map((glob) => ({ check: checkId(kind, glob), kind, asset: glob, status: 'error' as const, observed: null, message: message(glob) })),
  );
}

export function configuredKinds(monitor: MonitorConfig): CheckKind[] {
  const kinds: CheckKind[] = [];
  if (monitor.freshness !== undefined) kinds.push('freshness');
  if (monitor.volume !== undefined) kinds.push('volume');
  if (monitor.distribution !== undefined) kinds.push('distribution');
  if (monitor.schema) kinds.push('schema');
  return kinds;
}
