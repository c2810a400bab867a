// pipewarden_findings sums what the sweep and the profile job last judged: each job replaces only
// its own counts, even for a kind both judge (volume: table size in the sweep, rows per bucket in
// the profile job).

import { describe, expect, it } from 'vitest';
import { recordFindingMetrics } from '../../src/collect/finding-metrics.ts';
import { Metrics } from '../../src/telemetry/metrics.ts';
import type { CheckKind, Finding, FindingStatus } from '../../src/types.ts';

const finding = (kind: CheckKind, status: FindingStatus, asset: string): Finding => ({ check: `${kind}:${asset}`, kind, asset, status, observed: null, message: asset });

async function gauge(metrics: Metrics): Promise<Record<string, number>> {
  return Object.fromEntries((await metrics.findings.get()).values.map((value) => [`${value.labels.kind}/${value.labels.status}`, value.value]));
}

describe('recordFindingMetrics', () => {
  it('keeps each job\'s latest counts apart and shows their sum', async () => {
    const metrics = new Metrics({ processMetrics: false });
    recordFindingMetrics(metrics, 'sweep', [finding('freshness', 'ok', 'a'), finding('volume', 'fail', 'snapshot')]);
    recordFindingMetrics(metrics, 'profile', [finding('volume', 'ok', 'orders'), finding('volume', 'fail', 'events'), finding('distribution', 'warn', 'orders')]);
    expect(await gauge(metrics)).toEqual({ 'freshness/ok': 1, 'volume/fail': 2, 'volume/ok': 1, 'distribution/warn': 1 });

    // The sweep's next run replaces its own counts only; the profile job's stay.
    recordFindingMetrics(metrics, 'sweep', [finding('freshness', 'warn', 'a'), finding('volume', 'ok', 'snapshot')]);
    expect(await gauge(metrics)).toEqual({ 'freshness/warn': 1, 'volume/fail': 1, 'volume/ok': 2, 'distribution/warn': 1 });

    recordFindingMetrics(metrics, 'profile', []);
    expect(await gauge(metrics)).toEqual({ 'freshness/warn': 1, 'volume/ok': 1 });
  });

  it('keeps separate daemons (separate registries) apart', async () => {
    const first = new Metrics({ processMetrics: false });
    const second = new Metrics({ processMetrics: false });
    recordFindingMetrics(first, 'sweep', [finding('schema', 'fail', 'x')]);
    recordFindingMetrics(second, 'sweep', [finding('schema', 'ok', 'y')]);
    expect(await gauge(first)).toEqual({ 'schema/fail': 1 });
    expect(await gauge(second)).toEqual({ 'schema/ok': 1 });
  });
});
