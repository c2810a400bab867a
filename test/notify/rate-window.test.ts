import { describe, expect, it } from 'vitest';
import { RateWindow } from '../../src/notify/rate-window.ts';

describe('RateWindow', () => {
  it('lets `limit` through per key per window, then says how long until the oldest leaves it', () => {
    const window = new RateWindow(3, 60_000);
    expect([0, 10, 20].map((at) => window.take('key-a', at))).toEqual([0, 0, 0]);
    expect(window.take('key-a', 30)).toBe(59_970);
    expect(window.take('key-b', 30)).toBe(0);
    expect(window.take('key-a', 60_001)).toBe(0);
    expect(window.take('key-a', 60_002)).toBe(8);
  });
});
