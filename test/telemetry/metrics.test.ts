import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/telemetry/metrics.ts';

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
});
