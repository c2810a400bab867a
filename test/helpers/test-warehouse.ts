// A blank PostgreSQL warehouse named `demo` with real writers on it, for tests that run one
// warehouse-writing action (sql, publish, rollback) on its own.

import { configSchema } from '../../src/config/schema.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import type { ActionContext } from '../../src/runbooks/action.ts';
import { createWarehouseWriters } from '../../src/warehouse/postgres-writer.ts';
import type { WarehouseWriters } from '../../src/warehouse/warehouse-writer.ts';
import { testActionContext } from './action-context.ts';
import { testLogger } from './logger.ts';
import { createBlankDatabase } from './postgres.ts';
import type { TestDatabase } from './postgres.ts';

export interface TestWarehouse {
  database: TestDatabase;
  writers: WarehouseWriters;
  /** The `warehouses` config naming it, for a test that builds its own writers or context. */
  warehouses: ConfigInput['warehouses'];
  /** An action context whose config names this warehouse and whose writers write to it. */
  context(overrides?: Partial<ActionContext>): ActionContext;
  /** Closes the writers and drops the database; call it in afterAll. */
  close(): Promise<void>;
}

export async function createTestWarehouse(): Promise<TestWarehouse> {
  const database = await createBlankDatabase();
  const warehouses: ConfigInput['warehouses'] = { demo: { type: 'postgres', url: database.url, write_url: database.url } };
  const writers = createWarehouseWriters(configSchema.parse({ warehouses }), testLogger());
  return {
    database,
    writers,
    warehouses,
    context: (overrides = {}) => testActionContext({ config: { warehouses }, writers, overrides }),
    async close() {
      await writers.close();
      await database.drop();
    },
  };
}
