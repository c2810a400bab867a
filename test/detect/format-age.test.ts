import { describe, expect, it } from 'vitest';
import { formatAge } from '../../src/detect/format-age.ts';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('formatAge', () => {
  it.each([
    [0, '0s'],
    [499, '0s'],
    [1_999, '1s'],
    [59 * SECOND, '59s'],
    [60 * SECOND, '1m'],
    [7 * MINUTE + 12 * SECOND, '7m 12s'],
    [2 * HOUR + 5 * MINUTE + 59 * SECOND, '2h 5m'],
    [3 * DAY + 4 * HOUR + 30 * MINUTE, '3d 4h'],
    [HOUR + 5 * SECOND, '1h'],
    [DAY + 5 * MINUTE, '1d'],
    [DAY, '1d'],
    [400 * DAY, '400d'],
  ])('%i ms reads "%s"', (ms, text) => {
    expect(formatAge(ms)).toBe(text);
  });

  it('keeps the two largest units only, counted from the first non-zero one', () => {
    expect(formatAge(DAY + HOUR + MINUTE + SECOND)).toBe('1d 1h');
    expect(formatAge(HOUR + MINUTE + SECOND)).toBe('1h 1m');
  });

  it('reads a negative age (clock skew, a timestamp in the future) as 0s', () => {
    expect(formatAge(-5 * MINUTE)).toBe('0s');
  });

  it('truncates within a unit (an age never reads older than it is), after rounding to whole ms', () => {
    expect(formatAge(MINUTE - 1)).toBe('59s');
    expect(formatAge(MINUTE - 0.4)).toBe('1m');
  });
});
