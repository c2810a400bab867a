// The README's metrics table is what dashboards and alert rules are written against: every
// pipewarden metric must be in it, and nothing that no longer exists.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/telemetry/metrics.ts';

describe('README metrics table', () => {
  it('lists exactly the metrics pipewarden defines', async () => {
    const readme = await readFile(path.join(import.meta.dirname, '../../README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Metrics'), readme.indexOf('### Incidents and paging'));
    const documented = [...section.matchAll(/^\| `(pipewarden_[a-z_]+)` \|/gm)].map((match) => match[1]);
    const defined = (await new Metrics({ processMetrics: false }).registry.getMetricsAsJSON()).map((metric) => metric.name);
    expect(documented.sort()).toEqual(defined.sort());
  });
});
