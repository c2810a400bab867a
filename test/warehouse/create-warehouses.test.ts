import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.ts';
import { closeWarehouses, createWarehouses } from '../../src/warehouse/create-warehouses.ts';
import { freePort } from '../helpers/free-port.ts';
import { testLogger } from '../helpers/logger.ts';
import { createBlankDatabase } from '../helpers/postgres.ts';
import type { TestDatabase } from '../helpers/postgres.ts';
import { rejectionOf } from './warehouse-fixtures.ts';

let database: TestDatabase;

beforeAll(async () => {
  database = await createBlankDatabase();
  await database.pool().query('CREATE SCHEMA sales; CREATE TABLE sales.orders (id int); CREATE SCHEMA hr; CREATE TABLE hr.people (id int);');
});

afterAll(async () => {
  await database?.drop();
});

describe('createWarehouses', () => {
  it('builds one adapter per configured warehouse, each with its own settings', async () => {
    const config = configSchema.parse({
      warehouses: {
        analytics: { type: 'postgres', url: database.url, schemas: ['sales'] },
        offline: { type: 'postgres', url: `postgres://u:p@127.0.0.1:${await freePort()}/x`, connect_timeout: '1s' },
      },
    });
    const warehouses = createWarehouses(config, testLogger());
    try {
      expect([...warehouses.keys()]).toEqual(['analytics', 'offline']);
      const analytics = warehouses.get('analytics');
      expect(analytics?.name).toBe('analytics');
      // The configured schema list is the default filter.
      expect((await analytics?.listTables())?.map((table) => `${table.schema}.${table.name}`)).toEqual(['sales.orders']);
      expect((await analytics?.listTables({ schemas: ['hr'] }))?.map((table) => table.name)).toEqual(['people']);
      const offline = warehouses.get('offline');
      expect((await rejectionOf(offline?.ping() ?? Promise.resolve())).code).toBe('warehouse_unreachable');
    } finally {
      await closeWarehouses(warehouses);
    }
    // Closing twice is harmless; using a closed warehouse says why it fails.
    await closeWarehouses(warehouses);
    expect((await rejectionOf(warehouses.get('analytics')?.ping() ?? Promise.resolve())).message).toMatch(/closed/);
  });
});
