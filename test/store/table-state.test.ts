// table_state upserts: a big warehouse is written a batch of tables per statement, and every
// batch reports exactly what changed since the previous sweep (new tables, changed columns,
// changed figures, write-counter movement), whatever batch a table falls in.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertTableSnapshots, type TableSnapshot } from '../../src/store/table-state.ts';
import type { TestDatabase } from '../helpers/postgres.ts';
import { createTestDatabase } from '../helpers/postgres.ts';

const T0 = new Date('2025-03-01T10:00:00.123Z');
const T1 = new Date('2025-03-01T10:05:00.456Z');
const T2 = new Date('2025-03-01T10:10:00.789Z');
// More than two batches' worth, so the first, a middle and the last batch are all exercised.
const TABLES = 4_500;

const columns = [
  { name: 'id', type: 'bigint', nullable: false, position: 1 },
  { name: 'loaded_at', type: 'timestamp with time zone', nullable: true, position: 2 },
];

function snapshot(index: number): TableSnapshot {
  return {
    asset: `wh.feeds.t${index}`,
    warehouse: 'wh',
    schema: 'feeds',
    name: `t${index}`,
    kind: 'table',
    rowEstimate: 100 + index,
    sizeBytes: null,
    writesTotal: 1_000 + index,
    columns,
  };
}

describe('upsertTableSnapshots', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await database.drop();
  });

  it('writes thousands of tables in batches and reports only what changed, in any batch', async () => {
    const tables = Array.from({ length: TABLES }, (_, index) => snapshot(index));
    const first = await upsertTableSnapshots(database.pool(), tables, T0);
    expect(first.changes.size).toBe(TABLES);
    expect(first.schema.firstSeen.size).toBe(TABLES);
    expect(first.schema.changed.size).toBe(0);
    // Every known figure of a new table is a change; a null one (size) is not.
    expect(first.changedFigures).toHaveLength(2 * TABLES);
    expect(first.changedFigures).toContainEqual({ asset: 'wh.feeds.t4499', figure: 'writes_total', value: 5_499 });
    expect(first.changes.get('wh.feeds.t4499')).toEqual({ firstSeenAt: T0, lastChangedAt: null });
    const { rows } = await database.pool().query<{ n: number }>('select count(*)::int as n from table_state');
    expect(rows[0]?.n).toBe(TABLES);

    // One change in the first batch, one in the last; the rest are repeats.
    const next = tables.map((table) => ({ ...table }));
    next[10] = { ...snapshot(10), rowEstimate: 7 };
    next[4_400] = { ...snapshot(4_400), writesTotal: 6_000, columns: [...columns, { name: 'note', type: 'text', nullable: true, position: 3 }] };
    const second = await upsertTableSnapshots(database.pool(), next, T1);
    expect(second.changes.size).toBe(TABLES);
    expect(second.schema.firstSeen.size).toBe(0);
    expect([...second.schema.changed]).toEqual([['wh.feeds.t4400', columns]]);
    expect(second.changedFigures).toEqual([
      { asset: 'wh.feeds.t10', figure: 'row_estimate', value: 7 },
      { asset: 'wh.feeds.t4400', figure: 'writes_total', value: 6_000 },
    ]);
    expect(second.changes.get('wh.feeds.t4400')).toEqual({ firstSeenAt: T0, lastChangedAt: T1 });
    expect(second.changes.get('wh.feeds.t10')).toEqual({ firstSeenAt: T0, lastChangedAt: null });

    // Counters that went down were reset, not written: a new figure, but no change time.
    next[20] = { ...snapshot(20), writesTotal: 3 };
    const third = await upsertTableSnapshots(database.pool(), next, T2);
    expect(third.changedFigures).toEqual([{ asset: 'wh.feeds.t20', figure: 'writes_total', value: 3 }]);
    expect(third.changes.get('wh.feeds.t20')).toEqual({ firstSeenAt: T0, lastChangedAt: null });
    expect(third.changes.get('wh.feeds.t4400')).toEqual({ firstSeenAt: T0, lastChangedAt: T1 });
  });
});
