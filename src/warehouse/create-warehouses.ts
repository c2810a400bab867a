// Builds one adapter per configured warehouse. Only the composition root and CLI commands call
// this; everything else receives Warehouse instances.

import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import { createPostgresWarehouse } from './postgres-warehouse.ts';
import type { Warehouse } from './warehouse.ts';

export function createWarehouses(config: Config, logger: Logger): Map<string, Warehouse> {
  const warehouses = new Map<string, Warehouse>();
  for (const [name, warehouseConfig] of Object.entries(config.warehouses)) {
    switch (warehouseConfig.type) {
      case 'postgres':
        warehouses.set(name, createPostgresWarehouse(name, warehouseConfig, logger));
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
