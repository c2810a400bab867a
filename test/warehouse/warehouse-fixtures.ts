// Shared setup for the warehouse tests: a blank test database used as "the warehouse", and an
// adapter on it that records every statement it sends.

import type { WarehouseConfig } from '../../src/config/schema.ts';
import { createPostgresWarehouse } from '../../src/warehouse/postgres-warehouse.ts';
import type { Warehouse } from '../../src/warehouse/warehouse.ts';
import { testLogger } from '../helpers/logger.ts';

export interface RecordingWarehouse {
  warehouse: Warehouse;
  statements: string[];
}

export function warehouseConfig(url: string, overrides: Partial<WarehouseConfig> = {}): WarehouseConfig {
  return { type: 'postgres', url, max_connections: 2, statement_timeout: 10_000, connect_timeout: 5_000, ...overrides };
}

export function recordingWarehouse(url: string, overrides: Partial<WarehouseConfig> = {}, name = 'analytics'): RecordingWarehouse {
  const statements: string[] = [];
  const warehouse = createPostgresWarehouse(name, warehouseConfig(url, overrides), testLogger(), {
    onStatement: (sql) => statements.push(sql),
  });
  return { warehouse, statements };
}

/** The error a promise rejects with; fails the test when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error & { code?: string; warehouse?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string; warehouse?: string };
  }
  throw new Error('expected the promise to reject, but it resolved');
}
