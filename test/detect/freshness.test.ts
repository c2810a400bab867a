import { describe, expect, it } from 'vitest';
import { evaluateFreshness, type FreshnessThresholds, type LastUpdate } from '../../src/detect/freshness.ts';

const MINUTE = 60_000;
const NOW = new Date('2025-03-14T12:00:00Z');
const ASSET = 'analytics.raw.store_inventory';
const THRESHOLDS: FreshnessThresholds = { warnAfterMs: 2 * MINUTE, errorAfterMs: 5 * MINUTE };

const ago = (ms: number): Date => new Date(NOW.getTime() - ms);
const column = (at: Date | null): LastUpdate => ({ source: 'column', column: 'loaded_at', at });

describe('evaluateFreshness from a timestamp column', () => {
  it.each([
    [0, 'ok'],
    [2 * MINUTE, 'ok'],
    [2 * MINUTE + 1, 'warn'],
    [5 * MINUTE, 'warn'],
    [5 * MINUTE + 1, 'fail'],
    [3 * 24 * 60 * MINUTE, 'fail'],
  ])('%i ms old is %s (a limit is inclusive)', (ageMs, status) => {
    const finding = evaluateFreshness(ASSET, column(ago(ageMs)), THRESHOLDS, NOW);
    expect(finding.status).toBe(status);
    expect(finding.observed).toBe(ageMs / 1000);
  });

  it('reports the contract fields: check id, kind, asset, column, observed seconds, expected range, message', () => {
    const finding = evaluateFreshness(ASSET, column(ago(3 * MINUTE + 10_000)), THRESHOLDS, NOW);
    expect(finding).toEqual({
      check: `freshness:${ASSET}`,
      kind: 'freshness',
      asset: ASSET,
      column: 'loaded_at',
      status: 'warn',
      observed: 190,
      expected: { low: 0, high: 120 },
      message: `${ASSET}: newest loaded_at is 3m 10s old (warn after 2m, fail after 5m)`,
    });
  });

  it('uses error_after as the expected high when only it is set, and fails past it with no warn step', () => {
    const thresholds = { errorAfterMs: 5 * MINUTE };
    expect(evaluateFreshness(ASSET, column(ago(4 * MINUTE)), thresholds, NOW)).toMatchObject({ status: 'ok', expected: { low: 0, high: 300 } });
    const late = evaluateFreshness(ASSET, column(ago(6 * MINUTE)), thresholds, NOW);
    expect(late).toMatchObject({ status: 'fail', expected: { low: 0, high: 300 } });
    expect(late.message).toBe(`${ASSET}: newest loaded_at is 6m old (fail after 5m)`);
  });

  it('never goes beyond warn with only warn_after set', () => {
    const finding = evaluateFreshness(ASSET, column(ago(10 * 24 * 60 * MINUTE)), { warnAfterMs: 2 * MINUTE }, NOW);
    expect(finding.status).toBe('warn');
    expect(finding.message).toBe(`${ASSET}: newest loaded_at is 10d old (warn after 2m)`);
  });

  it('is ok without thresholds, with no expected range and says none are set', () => {
    const finding = evaluateFreshness(ASSET, column(ago(10 * 24 * 60 * MINUTE)), {}, NOW);
    expect(finding.status).toBe('ok');
    expect(finding).not.toHaveProperty('expected');
    expect(finding.message).toBe(`${ASSET}: newest loaded_at is 10d old (no thresholds set)`);
  });

  it('treats a timestamp ahead of now as fresh', () => {
    const finding = evaluateFreshness(ASSET, column(new Date(NOW.getTime() + 10 * MINUTE)), THRESHOLDS, NOW);
    expect(finding.status).toBe('ok');
    expect(finding.message).toContain('is 0s old');
  });

  describe('a column with no rows', () => {
    it('fails when thresholds are set, with observed null and the column named', () => {
      const finding = evaluateFreshness(ASSET, column(null), THRESHOLDS, NOW);
      expect(finding).toEqual({
        check: `freshness:${ASSET}`,
        kind: 'freshness',
        asset: ASSET,
        column: 'loaded_at',
        status: 'fail',
        observed: null,
        expected: { low: 0, high: 120 },
        message: `${ASSET}: no rows with a loaded_at value`,
      });
    });

    it('only warns without thresholds', () => {
      const finding = evaluateFreshness(ASSET, column(null), {}, NOW);
      expect(finding.status).toBe('warn');
      expect(finding.observed).toBeNull();
      expect(finding).not.toHaveProperty('expected');
    });
  });
});

describe('evaluateFreshness from write counters', () => {
  const watchedSince = ago(60 * MINUTE);

  it('measures from the last sweep that saw the counters move', () => {
    const last: LastUpdate = { source: 'write_counters', at: ago(3 * MINUTE), watchedSince };
    const finding = evaluateFreshness(ASSET, last, THRESHOLDS, NOW);
    expect(finding).toEqual({
      check: `freshness:${ASSET}`,
      kind: 'freshness',
      asset: ASSET,
      status: 'warn',
      observed: 180,
      expected: { low: 0, high: 120 },
      message: `${ASSET}: last write seen 3m ago (warn after 2m, fail after 5m)`,
    });
    expect(finding).not.toHaveProperty('column');
  });

  it('counts from when watching began when no change was seen yet', () => {
    const last: LastUpdate = { source: 'write_counters', at: null, watchedSince };
    const finding = evaluateFreshness(ASSET, last, THRESHOLDS, NOW);
    expect(finding.status).toBe('fail');
    expect(finding.observed).toBe(3600);
    expect(finding.message).toBe(`${ASSET}: no writes seen in the 1h pipewarden has watched it (warn after 2m, fail after 5m)`);
  });

  it('is ok on the first sweep, when watching has only just begun', () => {
    const last: LastUpdate = { source: 'write_counters', at: null, watchedSince: NOW };
    const finding = evaluateFreshness(ASSET, last, THRESHOLDS, NOW);
    expect(finding.status).toBe('ok');
    expect(finding.observed).toBe(0);
  });

  it('prefers the seen change over the start of watching', () => {
    const last: LastUpdate = { source: 'write_counters', at: ago(MINUTE), watchedSince };
    expect(evaluateFreshness(ASSET, last, THRESHOLDS, NOW)).toMatchObject({ status: 'ok', observed: 60 });
  });
});
