import { describe, expect, it } from 'vitest';
import { recordFindingMetrics } from '../../src/collect/finding-metrics.ts';
import { Metrics } from '../../src/telemetry/metrics.ts';
import { promtoolCheckMetrics } from './promtool-check.ts';

describe('Metrics', () => {
  it('owns its registry, so several instances live side by side', async () => {
    const first = new Metrics({ version: '1.2.3' });
    const second = new Metrics({ version: '9.9.9' });
    first.jobRuns.inc({ job: 'sweep', outcome: 'ok' });
    expect(await first.render()).toContain('pipewarden_build_info{version="1.2.3"} 1');
    expect(await second.render()).toContain('pipewarden_build_info{version="9.9.9"} 1');
    expect(await second.render()).not.toMatch(/^pipewarden_job_runs_total\{/m);
  });

  it('follows the naming rules: prefix, base units, counters end in _total', async () => {
    const metrics = new Metrics();
    const all = await metrics.registry.getMetricsAsJSON();
    expect(all.length).toBeGreaterThan(20);
    for (const metric of all) {
      expect(metric.name).toMatch(/^pipewarden_/);
      expect(metric.name.endsWith('_total')).toBe(String(metric.type) === 'counter');
      expect(metric.name).not.toMatch(/_(ms|milliseconds|minutes)$/);
    }
  });

  it('leaves process metrics out when asked', async () => {
    const metrics = new Metrics({ processMetrics: false });
    expect(await metrics.render()).not.toContain('pipewarden_process_cpu');
  });

  it('passes promtool check metrics with every metric holding samples, process metrics included', async () => {
    const metrics = new Metrics();
    recordFindingMetrics(metrics, 'sweep', [
      { check: 'freshness:wh.raw.feed', kind: 'freshness', asset: 'wh.raw.feed', status: 'fail', observed: 7200, expected: { low: 0, high: 600 }, message: 'stale' },
      { check: 'volume:wh.raw.feed', kind: 'volume', asset: 'wh.raw.feed', status: 'warn', observed: 10, expected: { low: 50, high: 90 }, score: 4.2, message: 'few' },
    ]);
    // Every other metric gets a sample too, so promtool sees every name, type and help line.
    const all = await metrics.registry.getMetricsAsJSON();
    for (const { name, type } of all) {
      const metric = metrics.registry.getSingleMetric(name) as unknown as { labelNames?: string[]; inc?: (labels: object) => void; set?: (labels: object, value: number) => void; observe?: (labels: object, value: number) => void };
      const labels = Object.fromEntries((metric.labelNames ?? []).map((label) => [label, 'x']));
      if (String(type) === 'counter') metric.inc?.(labels);
      else if (String(type) === 'histogram') metric.observe?.(labels, 1.5);
      else if (String(type) === 'gauge' && (await metrics.registry.getSingleMetric(name)?.get())?.values.length === 0) metric.set?.(labels, 1);
    }
    const scrape = await metrics.render();
    expect(scrape).toContain('pipewarden_asset_freshness_lateness_seconds{asset="wh.raw.feed"} 6600');
    expect(scrape).toContain('pipewarden_pages_total{severity="x"} 1');
    expect(await promtoolCheckMetrics(scrape)).toEqual({ code: 0, output: '' });
  });
});
