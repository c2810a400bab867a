// Turns the monitored assets of one warehouse into findings. Measuring is done here (it talks to
// the warehouse); judging is done by the pure functions in detect/.

import type { Logger } from 'pino';
import { freshnessSchema, freshnessSettings, type MonitorConfig } from '../config/schema.ts';
import { evaluateFreshness, type FreshnessThresholds, type LastUpdate } from '../detect/freshness.ts';
import { errorMessage, PipewardenError } from '../errors.ts';
import type { TableChangeTimes } from '../store/table-state.ts';
import { checkId, type CheckKind, type Finding } from '../types.ts';
import type { Warehouse } from '../warehouse/warehouse.ts';
import { globTargetsWarehouse } from '../config/asset-globs.ts';
import type { AssetSelection, MonitoredAsset } from './asset-selection.ts';

export interface AssetCheckContext {
  warehouse: Warehouse;
  selection: AssetSelection;
  changes: ReadonlyMap<string, TableChangeTimes>;
  now: Date;
  signal: AbortSignal;
  logger: Logger;
}

export async function evaluateAssetChecks(context: AssetCheckContext, monitors: readonly MonitorConfig[]): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const monitored of context.selection.assets) {
    if (context.signal.aborted) break;
    if (monitored.monitor.freshness !== undefined) findings.push(await checkFreshness(context, monitored));
  }
  for (const index of context.selection.unmatchedMonitors) {
    const monitor = monitors[index] as MonitorConfig;
    findings.push(...monitorFindings(monitor, context.warehouse.name, (glob) =>
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

async function checkFreshness(context: AssetCheckContext, monitored: MonitoredAsset): Promise<Finding> {
  const settings = freshnessSettings(monitored.monitor) ?? freshnessSchema.parse({});
  const thresholds: FreshnessThresholds = { warnAfterMs: settings.warn_after, errorAfterMs: settings.error_after };
  try {
    const last = await measureLastUpdate(context, monitored, settings.column);
    return evaluateFreshness(monitored.asset, last, thresholds, context.now);
  } catch (error) {
    context.logger.warn({ asset: monitored.asset, err: error }, `freshness of ${monitored.asset} could not be measured`);
    const code = error instanceof PipewardenError ? ` [${error.code}]` : '';
    return {
      check: checkId('freshness', monitored.asset),
      kind: 'freshness',
      asset: monitored.asset,
      ...(settings.column ? { column: settings.column } : {}),
      status: 'error',
      observed: null,
      message: `${monitored.asset}: freshness could not be measured: ${errorMessage(error)}${code}`,
    };
  }
}

async function measureLastUpdate(context: AssetCheckContext, monitored: MonitoredAsset, column: string | undefined): Promise<LastUpdate> {
  const { table, asset } = monitored;
  if (column !== undefined) {
    if (!table.columns.some((candidate) => candidate.name === column)) {
      const known = table.columns.map((candidate) => candidate.name).join(', ');
      throw new PipewardenError('column_missing', `column "${column}" does not exist (columns: ${known}); fix monitors[${monitored.monitorIndex}].freshness.column`);
    }
    return { source: 'column', column, at: await context.warehouse.maxTimestamp(table, column) };
  }
  const changes = context.changes.get(asset);
  if (table.writes === null || changes === undefined) {
    throw new PipewardenError('no_write_counters', `a ${table.kind.replace('_', ' ')} has no write counters; set monitors[${monitored.monitorIndex}].freshness.column to a timestamp column`);
  }
  return { source: 'write_counters', at: changes.lastChangedAt, watchedSince: changes.firstSeenAt };
}
