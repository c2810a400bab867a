// The cap on per-asset series keeps the assets a person most needs to see: failures first, then
// could not measure, warnings, healthy ones; among equals the higher anomaly score, then the name
// (so two replicas cut the same list the same way).

import { describe, expect, it } from 'vitest';
import { summarizeAssets, worstAssets } from '../../src/collect/finding-metrics.ts';
import type { CheckKind, Finding, FindingStatus } from '../../src/types.ts';

const finding = (asset: string, kind: CheckKind, status: FindingStatus, score?: number): Finding => ({
  check: `${kind}:${asset}`,
  kind,
  asset,
  status,
  observed: null,
  ...(score === undefined ? {} : { score }),
  message: asset,
});

const keptUnder = (limit: number, findings: Finding[]) => {
  const { kept, dropped } = worstAssets([...summarizeAssets(findings).values()], limit);
  return { kept: kept.map((series) => series.asset), dropped };
};

describe('worstAssets', () => {
  const findings = [
    finding('ok_b', 'freshness', 'ok'),
    finding('ok_a', 'freshness', 'ok'),
    finding('warn_a', 'volume', 'warn', 3.1),
    finding('warn_z', 'volume', 'warn', 5.5),
    finding('unmeasured', 'schema', 'error'),
    // One failing kind makes the whole asset a failing one, whatever its other kinds say.
    finding('mixed', 'freshness', 'ok'),
    finding('mixed', 'volume', 'fail', 0.5),
  ];

  it('ranks fail, error, warn (higher score first), then ok by name', () => {
    expect(keptUnder(10, findings)).toEqual({ kept: ['ok_b', 'ok_a', 'warn_a', 'warn_z', 'unmeasured', 'mixed'], dropped: 0 });
    // The score, not the name, picks the warning kept.
    expect(keptUnder(3, findings)).toEqual({ kept: ['mixed', 'unmeasured', 'warn_z'], dropped: 3 });
    expect(keptUnder(4, findings)).toEqual({ kept: ['mixed', 'unmeasured', 'warn_z', 'warn_a'], dropped: 2 });
    expect(keptUnder(5, findings)).toEqual({ kept: ['mixed', 'unmeasured', 'warn_z', 'warn_a', 'ok_a'], dropped: 1 });
    expect(keptUnder(0, findings)).toEqual({ kept: [], dropped: 6 });
  });

  it('takes the worst status and the highest score per asset and kind', () => {
    const series = summarizeAssets([finding('t', 'distribution', 'warn', 2), finding('t', 'distribution', 'fail', 1), finding('t', 'distribution', 'error')]).get('t');
    expect(series?.statuses).toEqual(new Map([['distribution', 'fail']]));
    expect(series?.scores).toEqual(new Map([['distribution', 2]]));
  });
});
