import { describe, expect, it } from 'vitest';
import { diffSchema, evaluateSchema } from '../../src/detect/schema-change.ts';
import type { CatalogColumn } from '../../src/warehouse/warehouse.ts';

const ASSET = 'marketplace.raw.store_inventory';
const col = (name: string, type: string, position: number): CatalogColumn => ({ name, type, nullable: true, position });
const BEFORE = [col('store_id', 'integer', 1), col('price', 'numeric(10,2)', 2), col('qty', 'integer', 3)];

describe('diffSchema', () => {
  it.each([
    ['no change', BEFORE, BEFORE, { added: [], removed: [], retyped: [], dropped: false }],
    ['a column added', BEFORE, [...BEFORE, col('note', 'text', 4)], { added: [col('note', 'text', 4)], removed: [], retyped: [], dropped: false }],
    ['a column removed', BEFORE, BEFORE.slice(0, 2), { added: [], removed: [col('qty', 'integer', 3)], retyped: [], dropped: false }],
    [
      'a type changed',
      BEFORE,
      [BEFORE[0]!, col('price', 'text', 2), BEFORE[2]!],
      { added: [], removed: [], retyped: [{ name: 'price', from: 'numeric(10,2)', to: 'text' }], dropped: false },
    ],
    ['the table dropped', BEFORE, null, { added: [], removed: [], retyped: [], dropped: true }],
    ['the first snapshot', null, BEFORE, { added: [], removed: [], retyped: [], dropped: false }],
    ['columns reordered only', BEFORE, [col('qty', 'integer', 1), col('store_id', 'integer', 2), col('price', 'numeric(10,2)', 3)], { added: [], removed: [], retyped: [], dropped: false }],
  ] as const)('%s', (_name, previous, current, expected) => {
    expect(diffSchema(previous, current)).toEqual(expected);
  });

  it('reads a rename as a removal plus an addition', () => {
    const diff = diffSchema(BEFORE, [BEFORE[0]!, BEFORE[1]!, col('quantity', 'integer', 3)]);
    expect(diff.removed.map((c) => c.name)).toEqual(['qty']);
    expect(diff.added.map((c) => c.name)).toEqual(['quantity']);
  });
});

describe('evaluateSchema', () => {
  it.each([
    ['unchanged → ok', BEFORE, BEFORE, 'ok', `${ASSET}: schema unchanged (3 columns)`],
    ['first snapshot → ok', null, BEFORE, 'ok', `${ASSET}: first schema snapshot (3 columns)`],
    ['added → warn', BEFORE, [...BEFORE, col('note', 'text', 4)], 'warn', `${ASSET}: column note text added`],
    ['removed → fail', BEFORE, BEFORE.slice(0, 2), 'fail', `${ASSET}: column qty removed`],
    [
      'retyped and removed → fail, listing both',
      BEFORE,
      [BEFORE[0]!, col('price', 'text', 2)],
      'fail',
      `${ASSET}: column price numeric(10,2) → text; column qty removed`,
    ],
    ['dropped → fail', BEFORE, null, 'fail', `${ASSET}: table dropped (it had 3 columns)`],
    ['never seen and not there → ok', null, null, 'ok', `${ASSET}: table not found yet`],
  ] as const)('%s', (_name, previous, current, status, message) => {
    const finding = evaluateSchema({ asset: ASSET, previous, current });
    expect(finding).toMatchObject({ check: `schema:${ASSET}`, kind: 'schema', asset: ASSET, status, message });
  });
});
