import { describe, expect, it } from 'vitest';
import { mad, median, quantile, selectInPlace } from '../../src/detect/robust-stats.ts';
import { seededRandom } from './series-fixtures.ts';

function sortedCopy(values: number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

describe('median', () => {
  it.each([
    [[5], 5],
    [[3, 1], 2],
    [[3, 1, 2], 2],
    [[4, 1, 3, 2], 2.5],
    [[1, 1, 1, 100], 1],
    [[-5, 10, 0], 0],
    [[7, 7, 7, 7, 7], 7],
  ])('of %j is %d', (values, expected) => {
    expect(median(values)).toBe(expected);
  });

  it('is NaN for no values and leaves its input alone', () => {
    expect(median([])).toBeNaN();
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
  });

  it('takes the first n values when n is given', () => {
    expect(median([1, 2, 3, 1000, 1000], 3)).toBe(2);
  });

  it('agrees with sorting on random inputs of every size (including many ties)', () => {
    const random = seededRandom(7);
    for (let n = 1; n < 200; n++) {
      const values = Array.from({ length: n }, () => Math.floor(random() * (n % 3 === 0 ? 5 : 1000)));
      const sorted = sortedCopy(values);
      const expected = n % 2 === 1 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
      expect(median(values)).toBe(expected);
    }
  });
});

describe('selectInPlace', () => {
  it('puts the k-th smallest at k with smaller values before and larger after', () => {
    const random = seededRandom(3);
    const values = Float64Array.from({ length: 101 }, () => Math.floor(random() * 50));
    const sorted = sortedCopy([...values]);
    for (const k of [0, 17, 50, 100]) {
      const a = Float64Array.from(values);
      expect(selectInPlace(a, a.length, k)).toBe(sorted[k]);
      for (let i = 0; i < k; i++) expect(a[i]).toBeLessThanOrEqual(a[k]!);
      for (let i = k + 1; i < a.length; i++) expect(a[i]).toBeGreaterThanOrEqual(a[k]!);
    }
  });
});

describe('mad', () => {
  it.each([
    [[1, 2, 3, 4, 100], 1 * 1.4826],
    [[10, 10, 10], 0],
    [[1, 3], 1 * 1.4826],
  ])('of %j is %d (scaled by 1.4826)', (values, expected) => {
    expect(mad(values)).toBeCloseTo(expected, 10);
  });

  it('uses the centre it is given', () => {
    expect(mad([1, 2, 3], 0)).toBeCloseTo(2 * 1.4826, 10);
  });

  it('estimates σ of normal data', () => {
    const random = seededRandom(11);
    const normals = Array.from({ length: 20_000 }, () => Math.sqrt(-2 * Math.log(random())) * Math.cos(2 * Math.PI * random()));
    expect(mad(normals)).toBeGreaterThan(0.97);
    expect(mad(normals)).toBeLessThan(1.03);
  });
});

describe('quantile (linear between order statistics)', () => {
  it.each([
    [0, 1],
    [1, 5],
    [0.5, 3],
    [0.25, 2],
    [0.9, 4.6],
    [0.1, 1.4],
  ])('q=%d of 1..5 is %d', (q, expected) => {
    expect(quantile([5, 3, 1, 4, 2], q)).toBeCloseTo(expected, 10);
  });

  it('is NaN for no values and the value itself for one', () => {
    expect(quantile([], 0.5)).toBeNaN();
    expect(quantile([7], 0.9)).toBe(7);
  });
});
