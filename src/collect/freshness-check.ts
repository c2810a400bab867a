// Freshness of one monitored asset: measure when it last changed (its timestamp column's newest
// value, or the last sweep that saw its write counters grow), then judge it against the static
// thresholds when the user wrote them, or against the asset's learned cadence when not.

import { freshnessSchema, freshnessSettings, type FreshnessConfig } from '../config/schema.ts';
import { evaluateFreshness, type LastUpdate } from '../detect/freshness.ts';
import { evaluateLearnedFreshness } from '../detect/freshness-cadence.ts';
import { errorMessage, PipewardenError } from '../errors.ts';
import { checkId, type Finding } from '../types.ts';
import type { AssetCheckContext } from './asset-checks.ts';
import type { MonitoredAsset } from './asset-selection.ts';

/** How far back learned cadences look for past updates. */
export const CADENCE_HISTORY_MS = 28 * 86_400_000;

export function usesLearnedCadence(settings: FreshnessConfig): boolean {
  return settings.warn_after === undefined && settings.error_after === undefined;
}

export async function checkFreshness(context: AssetCheckContext, monitored: MonitoredAsset): Promise<Finding> {
  const settings = freshnessSettings(monitored.monitor) ?? freshnessSchema.parse({});
  try {
    const last = await measureLastUpdate(context, monitored, settings.column);
    if (last.source === 'column' && last.at !== null) {
      // Keyed by the timestamp itself: seeing the same newest value again overwrites one row
      // instead of adding one per sweep; each distinct value is an update time.
      context.observations.push({ asset: monitored.asset, metric: 'max_timestamp', column: last.column, bucket: last.at, value: last.at.getTime() });
    }
    return judge(context, monitored.asset, last, settings);
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

function judge(context: AssetCheckContext, asset: string, last: LastUpdate, settings: FreshnessConfig): Finding {
  if (!usesLearnedCadence(settings)) {
    return evaluateFreshness(asset, last, { warnAfterMs: settings.warn_after, errorAfterMs: settings.error_after }, context.now);
  }
  const updateTimes = [...(context.updateTimes.get(asset) ?? [])];
  if (last.at !== null && !updateTimes.some((time) => time.getTime() === last.at?.getTime())) updateTimes.push(last.at);
  return evaluateLearnedFreshness({
    asset,
    ...(last.source === 'column' ? { column: last.column } : {}),
    lastUpdate: last.at,
    updateTimes,
    settings: { sensitivity: settings.sensitivity },
    now: context.now,
    ...(context.timezone ? { timezone: context.timezone } : {}),
  });
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
