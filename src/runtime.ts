// The adapters every long- or short-lived command needs, opened in one order and closed in the
// reverse: the state DB (migrated), the warehouses, the metrics. `pipewarden start` and
// `pipewarden check` both build on this, so a sweep behaves the same in the daemon and in CI.
// The config a sweep sees is the effective one: the configured monitors first, then those dbt's
// own configuration derives (source freshness, meta.pipewarden), so a hand-written monitor wins
// for a table both cover (the sweep keeps the first monitor's check).

import type { Logger } from 'pino';
import type { SweepContext } from './collect/sweep.ts';
import { hasPipelineSources, PipelineCollector } from './collect/pipelines.ts';
import type { Config, MonitorConfig } from './config/schema.ts';
import { migrate } from './store/migrate.ts';
import { openStateDatabase, type StateDatabase } from './store/state-database.ts';
import { Metrics } from './telemetry/metrics.ts';
import { createWarehouses } from './warehouse/create-warehouses.ts';
import type { Warehouse } from './warehouse/warehouse.ts';

export interface Runtime {
  /** The effective config: configured monitors, then the ones dbt derives (as last loaded). */
  readonly config: Config;
  logger: Logger;
  state: StateDatabase;
  warehouses: ReadonlyMap<string, Warehouse>;
  metrics: Metrics;
  now: () => Date;
  /** A sweep or profile context with the derived monitors as last loaded. */
  sweepContext(): SweepContext;
  /**
   * The same, after re-reading the dbt targets' manifests (unchanged files are reused): what the
   * scheduled sweep and profile and `pipewarden check` use, so derived monitors exist from the first
   * sweep on, on every replica, whichever job ran first.
   */
  loadSweepContext(): Promise<SweepContext>;
  /** Reads dbt targets and Airflow / SQLMesh databases; undefined when the config names none. */
  pipelines: PipelineCollector | undefined;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  config: Config;
  logger: Logger;
  metrics?: Metrics;
  now?: () => Date;
}

export async function openRuntime(options: RuntimeOptions): Promise<Runtime> {
  const { config, logger } = options;
  const state = await openStateDatabase(config.state, logger);
  try {
    await migrate(state.pool, { schema: state.schema, logger });
  } catch (error) {
    await state.close();
    throw error;
  }
  const metrics = options.metrics ?? new Metrics({ maxAssetSeries: config.telemetry.max_asset_series });
  const warehouses = createWarehouses(config, logger, { metrics });
  const now = options.now ?? (() => new Date());
  const pipelines = hasPipelineSources(config) ? new PipelineCollector({ config, state: state.pool, logger, metrics, now }) : undefined;
  const effective = effectiveConfig(config);
  const sweepContext = (): SweepContext => ({ config: effective(pipelines?.derivedMonitors() ?? []), warehouses, state: state.pool, logger, metrics, now });
  return {
    get config() {
      return effective(pipelines?.derivedMonitors() ?? []);
    },
    logger,
    state,
    warehouses,
    metrics,
    now,
    sweepContext,
    loadSweepContext: async () => {
      await pipelines?.refreshDerivedMonitors();
      return sweepContext();
    },
    pipelines,
    close: async () => {
      await pipelines?.close().catch((error: unknown) => logger.warn({ err: error }, 'closing the pipeline sources failed'));
      await closeRuntime(warehouses, state, logger);
    },
  };
}

/**
 * The config with derived monitors after the configured ones; the same object while they are the
 * same, so a sweep and the incidents it feeds agree on one config.
 */
function effectiveConfig(config: Config): (derived: readonly MonitorConfig[]) => Config {
  let last: { derived: readonly MonitorConfig[]; config: Config } = { derived: [], config };
  return (derived) => {
    if (derived.length === 0) return config;
    const same = derived.length === last.derived.length && derived.every((monitor, index) => monitor === last.derived[index]);
    if (!same) last = { derived, config: { ...config, monitors: [...config.monitors, ...derived] } };
    return last.config;
  };
}

async function closeRuntime(warehouses: ReadonlyMap<string, Warehouse>, state: StateDatabase, logger: Logger): Promise<void> {
  const results = await Promise.allSettled([...warehouses.values()].map((warehouse) => warehouse.close()));
  for (const result of results) if (result.status === 'rejected') logger.warn({ err: result.reason }, 'closing a warehouse failed');
  await state.close();
}
