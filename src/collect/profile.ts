// One profile tick: for every monitored table with a volume or distribution check, measure the
// buckets not measured yet plus the late-data window (a table's first profile measures its
// history), in one statement per plan, store them as observations, read the series back and
// evaluate the checks into findings. A table that cannot be profiled yields `error` findings
// for its checks; the other tables go on.

import { errorMessage, PipewardenError, WarehouseError } from '../errors.ts';
import { recordProfile } from '../store/profile-observations.ts';
import { profileKeyString, selectProfileStates, type ProfileProgress } from '../store/profile-state.ts';
import { insertFindings } from '../store/sweep-records.ts';
import { withSpan } from '../telemetry/tracing.ts';
import { checkId, summarizeFindings, type Finding } from '../types.ts';
import { withWarehouseJob } from '../warehouse/count-warehouse-statements.ts';
import type { Warehouse } from '../warehouse/warehouse.ts';
import { unmeasurableFindings } from './asset-checks.ts';
import { selectMonitoredAssets } from './asset-selection.ts';
import { PROFILE_KINDS, recordFindingMetrics } from './finding-metrics.ts';
import { evaluatePlan } from './profile-evaluation.ts';
import { measurementsOf } from './profile-measurements.ts';
import { columnRequests, measuresKey, profilePlans, profileRange, VOLUME_METRICS, type ProfilePlan } from './profile-plans.ts';
import { readPlanSeries } from './profile-series.ts';
import type { SweepContext, SweepOptions } from './sweep.ts';

export type ProfileContext = SweepContext;

export interface ProfileResult {
  /** Plans profiled (tables × time column × bucket width). */
  profiles: number;
  findings: Finding[];
}

export function runProfile(context: ProfileContext, signal: AbortSignal, options: SweepOptions = {}): Promise<ProfileResult> {
  return withWarehouseJob('profile', () => profile(context, signal, options));
}

async function profile(context: ProfileContext, signal: AbortSignal, options: SweepOptions): Promise<ProfileResult> {
  const profiledAt = context.now();
  const findings: Finding[] = [];
  let profiles = 0;
  for (const warehouse of context.warehouses.values()) {
    if (signal.aborted) break;
    const stopTimer = context.metrics.profileDuration.startTimer({ warehouse: warehouse.name });
    const outcome = await withSpan('profile warehouse', { 'pipewarden.warehouse': warehouse.name }, async (span) => {
      const profiled = await profileWarehouse(context, warehouse, profiledAt, signal, options);
      span.setAttributes({ 'pipewarden.profiles': profiled.profiles, 'pipewarden.findings': profiled.findings.length });
      return profiled;
    }).finally(() => stopTimer());
    profiles += outcome.profiles;
    findings.push(...outcome.findings);
  }
  await insertFindings(context.state, findings, profiledAt);
  recordFindingMetrics(context.metrics, 'profile', findings);
  const summary = summarizeFindings(findings);
  context.logger.info({ summary, profiles }, `profiled ${profiles} tables: ${summary.ok} ok, ${summary.warn} warn, ${summary.fail} fail, ${summary.error} error`);
  return { profiles, findings };
}

async function profileWarehouse(
  context: ProfileContext,
  warehouse: Warehouse,
  profiledAt: Date,
  signal: AbortSignal,
  options: SweepOptions,
): Promise<{ profiles: number; findings: Finding[] }> {
  const logger = context.logger.child({ warehouse: warehouse.name });
  const schemas = context.config.warehouses[warehouse.name]?.schemas;
  let tables;
  try {
    tables = await warehouse.listTables(schemas ? { schemas } : {});
  } catch (error) {
    if (!(error instanceof PipewardenError)) throw error;
    context.metrics.collectionErrors.inc({ source: 'warehouse' });
    logger.warn({ err: error }, `profile of warehouse ${warehouse.name} failed: ${errorMessage(error)}`);
    const errors = unmeasurableFindings(context.config.monitors, warehouse.name, error);
    return { profiles: 0, findings: errors.filter((finding) => PROFILE_KINDS.includes(finding.kind)) };
  }
  const monitored = selectMonitoredAssets(warehouse.name, tables, context.config.monitors, options.select).assets;
  const plans = profilePlans(monitored);
  const states = await selectProfileStates(context.state, [...new Set(plans.map((plan) => plan.asset))]);
  const findings: Finding[] = [];
  let profiles = 0;
  for (const plan of plans) {
    if (signal.aborted) break;
    const progress = states.get(profileKeyString({ asset: plan.asset, timeColumn: plan.timeColumn, bucketMs: plan.bucketMs }));
    try {
      const attributes = { 'pipewarden.asset': plan.asset, 'pipewarden.bucket_ms': plan.bucketMs };
      findings.push(...(await withSpan('profile table', attributes, () => profilePlan(context, warehouse, plan, progress, profiledAt))));
      profiles += 1;
    } catch (error) {
      // A failing state DB write lands here too; only the warehouse's own failures are collection errors.
      if (error instanceof WarehouseError) context.metrics.collectionErrors.inc({ source: 'warehouse' });
      logger.warn({ asset: plan.asset, err: error }, `profile of ${plan.asset} failed: ${errorMessage(error)}`);
      findings.push(...planErrors(plan, error));
    }
  }
  return { profiles, findings };
}

async function profilePlan(context: ProfileContext, warehouse: Warehouse, plan: ProfilePlan, progress: ProfileProgress | undefined, profiledAt: Date): Promise<Finding[]> {
  const profiling = context.config.profiling;
  const key = measuresKey(plan, profiling);
  const range = profileRange(progress, key, plan.bucketMs, profiling, profiledAt);
  let firstBucket = progress?.measuresKey === key ? progress.firstBucket : null;
  const to = new Date(Math.floor(profiledAt.getTime() / plan.bucketMs) * plan.bucketMs);
  if (range !== undefined) {
    const profiles = await warehouse.profileBuckets({
      table: plan.table,
      timeColumn: plan.timeColumn,
      bucketMs: plan.bucketMs,
      from: range.from,
      to: range.to,
      columns: columnRequests(plan, profiling),
    });
    const measured = measurementsOf(plan, range, profiles, firstBucket, profiling.top_k);
    const columns = plan.distribution.map((entry) => entry.column);
    const owned = { asset: plan.asset, from: range.from, to: range.to, tableMetrics: plan.volume ? VOLUME_METRICS : [], columns };
    const next = { asset: plan.asset, timeColumn: plan.timeColumn, bucketMs: plan.bucketMs, measuresKey: key, firstBucket: measured.firstBucket, measuredThrough: range.to };
    await recordProfile(context.state, owned, measured.observations, next, profiledAt);
    firstBucket = measured.firstBucket;
  }
  const series = await readPlanSeries(context.state, plan, { firstBucket, to, historyMs: profiling.history });
  return evaluatePlan(context.config, plan, series, profiledAt);
}

function planErrors(plan: ProfilePlan, error: unknown): Finding[] {
  const code = error instanceof PipewardenError ? ` [${error.code}]` : '';
  const message = (what: string) => `${plan.asset}: ${what} could not be measured: ${errorMessage(error)}${code}`;
  const findings: Finding[] = [];
  if (plan.volume) findings.push({ check: checkId('volume', plan.asset), kind: 'volume', asset: plan.asset, status: 'error', observed: null, message: message('volume') });
  for (const { column } of plan.distribution) {
    findings.push({ check: checkId('distribution', plan.asset, column), kind: 'distribution', asset: plan.asset, column, status: 'error', observed: null, message: message(`the distribution of ${column}`) });
  }
  return findings;
}
