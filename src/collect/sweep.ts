// One metadata sweep: for every warehouse, one catalog listing (a constant number of statements),
// the snapshot stored in the state DB, then the checks of the monitored assets evaluated into
// findings: freshness, schema, and the size of tables rebuilt on every run (volume without a
// column, judged from the row estimates this very sweep recorded, so a collapse shows at once).
// A warehouse that cannot answer yields `error` findings for its monitors, never a crash.

import type pg from 'pg';
import type { Logger } from 'pino';
import { assetMatcher } from '../config/asset-globs.ts';
import { freshnessSettings, type Config } from '../config/schema.ts';
import { errorMessage, PipewardenError } from '../errors.ts';
import { insertFindings, selectLatestStatuses, upsertObservations } from '../store/sweep-records.ts';
import { selectUpdateTimes } from '../store/update-history.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import { withSpan } from '../telemetry/tracing.ts';
import { summarizeFindings, type Finding, type FindingStatus } from '../types.ts';
import { withWarehouseJob } from '../warehouse/count-warehouse-statements.ts';
import type { CatalogTable, Warehouse } from '../warehouse/warehouse.ts';
import { evaluateAssetChecks, unmeasurableFindings, type AssetCheckContext } from './asset-checks.ts';
import { selectMonitoredAssets, type AssetSelection } from './asset-selection.ts';
import { recordFindingMetrics, SWEEP_KINDS } from './finding-metrics.ts';
import { evaluateSizeVolume, sizeVolumeChecks } from './size-volume.ts';
import { CADENCE_HISTORY_MS, usesLearnedCadence } from './freshness-check.ts';
import { recordCatalog } from './record-catalog.ts';

export interface SweepContext {
  config: Config;
  warehouses: ReadonlyMap<string, Warehouse>;
  state: pg.Pool;
  logger: Logger;
  metrics: Metrics;
  now: () => Date;
}

export interface SweepOptions {
  /** Only assets matching this glob (the CLI's --select). */
  select?: string;
}

export interface SweepResult {
  tables: number;
  findings: Finding[];
  /** Each check's status at its evaluation before this sweep (absent when never evaluated). */
  previousStatuses: ReadonlyMap<string, FindingStatus>;
}

export function runSweep(context: SweepContext, signal: AbortSignal, options: SweepOptions = {}): Promise<SweepResult> {
  return withWarehouseJob('sweep', () => sweep(context, signal, options));
}

async function sweep(context: SweepContext, signal: AbortSignal, options: SweepOptions): Promise<SweepResult> {
  const sweptAt = context.now();
  const result = { tables: 0, findings: [] as Finding[] };
  for (const [name, warehouse] of context.warehouses) {
    if (signal.aborted) break;
    const outcome = await withSpan('sweep warehouse', { 'pipewarden.warehouse': name }, async (span) => {
      const swept = await sweepWarehouse(context, warehouse, sweptAt, signal, options);
      span.setAttributes({ 'pipewarden.tables': swept.tables, 'pipewarden.findings': swept.findings.length });
      return swept;
    });
    result.tables += outcome.tables;
    result.findings.push(...outcome.findings);
    context.metrics.lastSweepTimestamp.set({ warehouse: name }, sweptAt.getTime() / 1000);
  }
  const findings = uniqueByCheck(result.findings);
  const previousStatuses = await selectLatestStatuses(context.state, findings.map((finding) => finding.check));
  await insertFindings(context.state, findings.filter((finding) => worthStoring(finding, previousStatuses)), sweptAt);
  recordFindingMetrics(context.metrics, 'sweep', findings);
  logFindings(context.logger, findings);
  return { tables: result.tables, findings, previousStatuses };
}

async function sweepWarehouse(
  context: SweepContext,
  warehouse: Warehouse,
  sweptAt: Date,
  signal: AbortSignal,
  options: SweepOptions,
): Promise<{ tables: number; findings: Finding[] }> {
  const logger = context.logger.child({ warehouse: warehouse.name });
  const stopTimer = context.metrics.sweepDuration.startTimer({ warehouse: warehouse.name });
  try {
    const tables = await listTables(context, warehouse, logger);
    if (tables instanceof PipewardenError) {
      // Volume and distribution errors are the profile job's to report (it fails the same way).
      const errors = unmeasurableFindings(context.config.monitors, warehouse.name, tables);
      return { tables: 0, findings: errors.filter((finding) => SWEEP_KINDS.includes(finding.kind)) };
    }
    const { changes, schema } = await recordCatalog(context.state, warehouse.name, tables, sweptAt);
    const selection = selectMonitoredAssets(warehouse.name, tables, context.config.monitors, options.select);
    context.metrics.tablesMonitored.set({ warehouse: warehouse.name }, new Set(selection.assets.map((a) => a.asset)).size);
    // Counts at info; the asset list (10,000 names on a big warehouse) only at debug.
    logger.info({ tables: tables.length, monitored: selection.assets.length }, `swept ${tables.length} tables in warehouse ${warehouse.name}`);
    // Built only when it will be written: a 10,000-name array per sweep is not free.
    if (logger.isLevelEnabled('debug')) logger.debug({ assets: selection.assets.map((a) => a.asset) }, 'monitored assets');
    const checkContext: AssetCheckContext = {
      warehouse,
      selection,
      changes,
      schema,
      updateTimes: await selectUpdateTimes(context.state, learnedFreshnessAssets(selection), new Date(sweptAt.getTime() - CADENCE_HISTORY_MS)),
      observations: [],
      selected: options.select === undefined ? () => true : assetMatcher([options.select]),
      now: sweptAt,
      ...(context.config.schedule.timezone ? { timezone: context.config.schedule.timezone } : {}),
      signal,
      logger,
    };
    const findings = await withSpan('evaluate checks', { 'pipewarden.warehouse': warehouse.name, 'pipewarden.assets': selection.assets.length }, async (span) => {
      const evaluated = await evaluateAssetChecks(checkContext, context.config.monitors);
      span.setAttributes(findingCounts(evaluated));
      return evaluated;
    });
    await upsertObservations(context.state, checkContext.observations, sweptAt);
    const sizes = signal.aborted ? [] : await evaluateSizeVolume(context, sizeVolumeChecks(selection.assets), sweptAt);
    return { tables: tables.length, findings: [...findings, ...sizes] };
  } finally {
    stopTimer();
  }
}

/** Span attributes: how many findings of each status (never their content). */
function findingCounts(findings: readonly Finding[]): Record<string, number> {
  const summary = summarizeFindings(findings);
  return { 'pipewarden.findings.ok': summary.ok, 'pipewarden.findings.warn': summary.warn, 'pipewarden.findings.fail': summary.fail, 'pipewarden.findings.error': summary.error };
}

function learnedFreshnessAssets(selection: AssetSelection): string[] {
  return selection.assets
    .filter((monitored) => {
      const settings = freshnessSettings(monitored.monitor);
      return settings !== undefined && usesLearnedCadence(settings);
    })
    .map((monitored) => monitored.asset);
}

async function listTables(context: SweepContext, warehouse: Warehouse, logger: Logger): Promise<CatalogTable[] | PipewardenError> {
  const schemas = context.config.warehouses[warehouse.name]?.schemas;
  try {
    const tables = await warehouse.listTables(schemas ? { schemas } : {});
    context.metrics.warehouseUp.set({ warehouse: warehouse.name }, 1);
    return tables;
  } catch (error) {
    context.metrics.warehouseUp.set({ warehouse: warehouse.name }, 0);
    context.metrics.collectionErrors.inc({ source: 'warehouse' });
    logger.warn({ err: error }, `sweep of warehouse ${warehouse.name} failed: ${errorMessage(error)}`);
    if (error instanceof PipewardenError) return error;
    throw error;
  }
}

/**
 * Most sweep checks have no buckets: only a change of status is worth a row (the latest row is
 * the current status); storing every evaluation would add rows per table per sweep. A bucketed
 * finding that is not ok (a collapsed table's size) is stored every time: its bucket must leave
 * later baselines, and they learn that from the stored findings.
 */
/** A finding is stored when its check's status changed, or when it is a non-ok finding about a bucket (each bucket's verdict matters). */
export function worthStoring(finding: Finding, previousStatuses: ReadonlyMap<string, FindingStatus>): boolean {
  if (previousStatuses.get(finding.check) !== finding.status) return true;
  return finding.bucket !== undefined && finding.status !== 'ok';
}

/** A table under two monitors with the same check is evaluated once: the first monitor wins. */
function uniqueByCheck(findings: readonly Finding[]): Finding[] {
  const seen = new Map<string, Finding>();
  for (const finding of findings) if (!seen.has(finding.check)) seen.set(finding.check, finding);
  return [...seen.values()];
}

function logFindings(logger: Logger, findings: readonly Finding[]): void {
  const summary = summarizeFindings(findings);
  logger.info({ summary }, `findings: ${summary.ok} ok, ${summary.warn} warn, ${summary.fail} fail, ${summary.error} error`);
  for (const finding of findings) {
    if (finding.status === 'ok') continue;
    const level = finding.status === 'warn' ? 'warn' : 'error';
    logger[level]({ asset: finding.asset, check: finding.check, status: finding.status, observed: finding.observed }, finding.message);
  }
}
