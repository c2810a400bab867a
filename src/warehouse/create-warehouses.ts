// Builds one adapter per configured warehouse. Only the composition root and CLI commands call
// this; everything else receives Warehouse instances.

import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import { countWarehouseStatements } from './count-warehouse-statements.ts';
import { createPostgresWarehouse } from './postgres-warehouse.ts';
import type { Warehouse } from './warehouse.ts';

export interface CreateWarehousesOptions {
  /** Counts the statements each warehouse is sent (pipewarden_warehouse_statements_total). */
  metrics?: Pick<Metrics, 'warehouseStatements'>;
}

export function createWarehouses(config: Config, logger: Logger, options: CreateWarehousesOptions = {}): Map<string, Warehouse> {
  const { metrics } = options;
  const warehouses = new Map<string, Warehouse>();
  for (const [name, warehouseConfig] of Object.entries(config.warehouses)) {
    switch (warehouseConfig.type) {
      case 'postgres':
        warehouses.set(name, createPostgresWarehouse(name, warehouseConfig, logger, metrics === undefined ? {} : { onStatement: countWarehouseStatements(metrics, name) }));
        break;
    }
  }
  return warehouses;
}

/** Closes every warehouse, even when some fail to close; the first failure is rethrown. */
export async function closeWarehouses(warehouses: ReadonlyMap<string, Warehouse>): Promise<void> {
  const results = await Promise.allSettled([...warehouses.values()].map((warehouse) => warehouse.close()));
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
}
