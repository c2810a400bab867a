// The adapters every long- or short-lived command needs, opened in one order and closed in the
// reverse: the state DB (migrated), the warehouses, the metrics. `pipewarden start` and
// `pipewarden check` both build on this, so a sweep behaves the same in the daemon and in CI.

import type { Logger } from 'pino';
import type { SweepContext } from './collect/sweep.ts';
import { hasPipelineSources, PipelineCollector } from './collect/pipelines.ts';
import type { Config } from './config/schema.ts';
import { migrate } from './store/migrate.ts';
import { openStateDatabase, type StateDatabase } from './store/state-database.ts';
import { Metrics } from './telemetry/metrics.ts';
import { createWarehouses } from './warehouse/create-warehouses.ts';
import type { Warehouse } from './warehouse/warehouse.ts';

export interface Runtime {
  config: Config;
  logger: Logger;
  state: StateDatabase;
  warehouses: ReadonlyMap<string, Warehouse>;
  metrics: Metrics;
  now: () => Date;
  sweepContext(): SweepContext;
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
  const warehouses = createWarehouses(config, logger);
  const metrics = options.metrics ?? new Metrics();
  const now = options.now ?? (() => new Date());
  const pipelines = hasPipelineSources(config) ? new PipelineCollector({ config, state: state.pool, logger, metrics, now }) : undefined;
  return {
    config,
    logger,
    state,
    warehouses,
    metrics,
    now,
    sweepContext: () => ({ config, warehouses, state: state.pool, logger, metrics, now }),
    pipelines,
    close: async () => {
      await pipelines?.close().catch((error: unknown) => logger.warn({ err: error }, 'closing the pipeline sources failed'));
      await closeRuntime(warehouses, state, logger);
    },
  };
}

async function closeRuntime(warehouses: ReadonlyMap<string, Warehouse>, state: StateDatabase, logger: Logger): Promise<void> {
  const results = await Promise.allSettled([...warehouses.values()].map((warehouse) => warehouse.close()));
  for (const result of results) if (result.status === 'rejected') logger.warn({ err: result.reason }, 'closing a warehouse failed');
  await state.close();
}
