import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogTable, Warehouse } from '../../src/warehouse/warehouse.ts';
import { createBlankDatabase } from '../helpers/postgres.ts';
import type { TestDatabase } from '../helpers/postgres.ts';
import { recordingWarehouse } from './warehouse-fixtures.ts';

let database: TestDatabase;
let warehouse: Warehouse;
let statements: string[];

beforeAll(async () => {
  database = await createBlankDatabase();
  await database.pool().query(`
    CREATE SCHEMA small;
    CREATE SCHEMA big;
    DO $$ BEGIN
      FOR i IN 1..10 LOOP EXECUTE format('CREATE TABLE small.t%s (id int NOT NULL, label text)', i); END LOOP;
      FOR i IN 1..1000 LOOP EXECUTE format('CREATE TABLE big.t%s (id int NOT NULL, label text, amount numeric(10,2))', i); END LOOP;
    END $$;

    CREATE SCHEMA shop;
    CREATE TABLE shop.orders (id bigint NOT NULL, status varchar(20), amount numeric(12,2), created_at timestamptz NOT NULL);
    INSERT INTO shop.orders SELECT g, 'paid', g, now() FROM generate_series(1, 500) g;
    UPDATE shop.orders SET status = 'refunded' WHERE id <= 7;
    DELETE FROM shop.orders WHERE id > 497;
    ANALYZE shop.orders;
    CREATE VIEW shop.paid_orders AS SELECT id, amount FROM shop.orders WHERE status = 'paid';
    CREATE MATERIALIZED VIEW shop.daily_totals AS SELECT created_at::date AS day, sum(amount) AS total FROM shop.orders GROUP BY 1;
    CREATE TABLE shop.events (id int, at timestamptz NOT NULL) PARTITION BY RANGE (at);
    CREATE TABLE shop.events_2024 PARTITION OF shop.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
    CREATE TABLE shop.events_2025 PARTITION OF shop.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
    INSERT INTO shop.events SELECT g, '2024-06-01'::timestamptz + g * interval '1 day' FROM generate_series(1, 300) g;
    CREATE EXTENSION file_fdw;
    CREATE SERVER files FOREIGN DATA WRAPPER file_fdw;
    CREATE FOREIGN TABLE shop.feed (sku text, qty int) SERVER files OPTIONS (filename '/dev/null', format 'csv');

    CREATE SCHEMA locked;
    CREATE TABLE locked.busy (id int);
    CREATE TABLE locked.calm (id int);
    CREATE TABLE locked.parts (id int) PARTITION BY LIST (id);
    CREATE TABLE locked.parts_1 PARTITION OF locked.parts FOR VALUES IN (1);
    CREATE TABLE locked.parts_2 PARTITION OF locked.parts FOR VALUES IN (2);
    INSERT INTO locked.calm VALUES (1);
  `);
  // Since PG15 counters reach the shared stats only at the next flush; force it for this backend.
  await database.pool().query('SELECT pg_stat_force_next_flush()');
  ({ warehouse, statements } = recordingWarehouse(database.url));
}, 120_000);

afterAll(async () => {
  await warehouse?.close();
  await database?.drop();
});

function byName(tables: CatalogTable[], name: string): CatalogTable {
  const table = tables.find((candidate) => candidate.name === name);
  if (!table) throw new Error(`table ${name} not listed; got ${tables.map((t) => t.name).join(', ')}`);
  return table;
}

describe('listTables', () => {
  it('issues the same number of statements for 10 tables as for 1,000', async () => {
    statements.length = 0;
    const small = await warehouse.listTables({ schemas: ['small'] });
    const smallCount = statements.length;
    statements.length = 0;
    const big = await warehouse.listTables({ schemas: ['big'] });
    const bigCount = statements.length;

    expect(small).toHaveLength(10);
    expect(big).toHaveLength(1000);
    expect(bigCount).toBe(smallCount);
    expect(smallCount).toBe(1);
    for (const table of big) {
      expect(table.kind).toBe('table');
      expect(table.columns.map((column) => [column.name, column.type, column.nullable, column.position])).toEqual([
        ['id', 'integer', false, 1],
        ['label', 'text', true, 2],
        ['amount', 'numeric(10,2)', true, 3],
      ]);
    }
    expect(new Set(big.map((table) => table.name)).size).toBe(1000);
  });

  it('lists every kind of relation with columns, estimates, sizes and write counters', async () => {
    const tables = await warehouse.listTables({ schemas: ['shop'] });
    expect(tables.map((table) => [table.name, table.kind])).toEqual([
      ['daily_totals', 'materialized_view'],
      ['events', 'partitioned_table'],
      ['feed', 'foreign_table'],
      ['orders', 'table'],
      ['paid_orders', 'view'],
    ]);

    const orders = byName(tables, 'orders');
    expect(orders.schema).toBe('shop');
    expect(orders.columns).toEqual([
      { name: 'id', type: 'bigint', nullable: false, position: 1 },
      { name: 'status', type: 'character varying(20)', nullable: true, position: 2 },
      { name: 'amount', type: 'numeric(12,2)', nullable: true, position: 3 },
      { name: 'created_at', type: 'timestamp with time zone', nullable: false, position: 4 },
    ]);
    expect(orders.rowEstimate).toBe(497);
    expect(orders.sizeBytes).toBeGreaterThan(0);
    expect(orders.writes).toEqual({ inserts: 500, updates: 7, deletes: 3 });
    expect(orders.lastAnalyzedAt).toBeInstanceOf(Date);

    const view = byName(tables, 'paid_orders');
    expect(view.columns.map((column) => column.name)).toEqual(['id', 'amount']);
    expect(view).toMatchObject({ rowEstimate: null, sizeBytes: null, writes: null });

    // Partitions are represented by their parent, which sums their storage and counters.
    const events = byName(tables, 'events');
    expect(events.writes?.inserts).toBe(300);
    expect(events.sizeBytes).toBeGreaterThan(0);
    expect(tables.some((table) => table.name.startsWith('events_'))).toBe(false);

    expect(byName(tables, 'feed')).toMatchObject({ writes: null, sizeBytes: null });
    expect(byName(tables, 'daily_totals').columns.map((column) => column.type)).toEqual(['date', 'numeric']);
  });

  it('reports a never-analyzed table as having no row estimate', async () => {
    const [table] = await warehouse.listTables({ schemas: ['small'] });
    expect(table?.rowEstimate).toBeNull();
  });

  it('lists every user schema but never system ones when no schema is given', async () => {
    const tables = await warehouse.listTables();
    const schemas = new Set(tables.map((table) => table.schema));
    expect([...schemas].sort()).toEqual(['big', 'locked', 'shop', 'small']);
    expect(tables).toHaveLength(1018);
  });

  it('skips sizing relations someone holds an exclusive lock on instead of queueing behind them', async () => {
    const holder = await database.pool().connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE locked.busy, locked.parts_1 IN ACCESS EXCLUSIVE MODE');
      const started = Date.now();
      // Queueing would wait out lock_timeout (5 s here) and fail the whole listing.
      const tables = await warehouse.listTables({ schemas: ['locked'] });
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(byName(tables, 'busy')).toMatchObject({ sizeBytes: null, columns: [{ name: 'id', type: 'integer', nullable: true, position: 1 }] });
      expect(byName(tables, 'parts').sizeBytes).toBeNull();
      expect(byName(tables, 'calm').sizeBytes).toBeGreaterThan(0);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    const unlocked = await warehouse.listTables({ schemas: ['locked'] });
    expect(byName(unlocked, 'busy').sizeBytes).toBe(0);
    expect(byName(unlocked, 'parts').sizeBytes).toBe(0);
  });

  it('is one statement with no transaction framing around it (the session is read-only from its start)', async () => {
    statements.length = 0;
    await warehouse.listTables({ schemas: ['small'] });
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatch(/^\s*WITH RECURSIVE rel AS/);
  });
});
