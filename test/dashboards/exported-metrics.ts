// The metric names and labels pipewarden exports, as Prometheus stores them, for checking the
// dashboards' queries against.

import type { Metrics } from '../../src/telemetry/metrics.ts';

export interface ExportedMetrics {
  /** Every series name a query may read (histograms as _bucket/_sum/_count). */
  names: Set<string>;
  /** Label names of each series name as Prometheus stores them (see labelsAsStored). */
  labels: Map<string, Set<string>>;
  /** Series whose own `job` label Prometheus renames to `exported_job`. */
  withOwnJob: Set<string>;
}

// Series Prometheus itself adds for every target; the dashboards read `up` only.
const PROMETHEUS_SERIES: Record<string, string[]> = { up: [] };
// Target labels Prometheus attaches to every scraped series (scrape job `pipewarden`).
const TARGET_LABELS = ['job', 'instance'];

/** Sample names in a Prometheus text exposition (comments and blank lines left out). */
export function scrapedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line);
    if (match?.[1]) names.add(match[1]);
  }
  return names;
}

/**
 * Names from a live scrape plus every name the registry defines. A labelled metric has no series
 * until its first observation (pages, runbook runs, retries… need incidents and deliveries a test
 * daemon does not produce), so a scrape alone would reject real metrics; the registry is the
 * definition, the scrape proves the daemon really serves them.
 */
export async function exportedMetrics(metrics: Metrics, exposition: string): Promise<ExportedMetrics> {
  const names = new Set<string>();
  const labels = new Map<string, Set<string>>();
  const withOwnJob = new Set<string>();
  const add = (name: string, own: readonly string[]) => {
    names.add(name);
    if (own.includes('job')) withOwnJob.add(name);
    labels.set(name, labelsAsStored(own));
  };
  for (const { name, type } of await metrics.registry.getMetricsAsJSON()) {
    // prom-client keeps a metric's label names but does not type them on the registry's view.
    const own = (metrics.registry.getSingleMetric(name) as unknown as { labelNames?: string[] }).labelNames ?? [];
    if (String(type) === 'histogram') {
      add(`${name}_bucket`, [...own, 'le']);
      add(`${name}_sum`, own);
      add(`${name}_count`, own);
    } else {
      add(name, own);
    }
  }
  for (const name of scrapedNames(exposition)) if (!names.has(name)) add(name, []);
  for (const [name, own] of Object.entries(PROMETHEUS_SERIES)) add(name, own);
  return { names, labels, withOwnJob };
}

/** With honor_labels false, a target's own `job` label is stored as `exported_job`. */
function labelsAsStored(own: readonly string[]): Set<string> {
  return new Set([...own.map((label) => (label === 'job' ? 'exported_job' : label)), ...TARGET_LABELS]);
}
