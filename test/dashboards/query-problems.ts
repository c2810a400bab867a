// What is wrong with one dashboard query, judged against what pipewarden exports: it does not
// parse, reads a metric pipewarden does not export, or matches or groups by a label those
// metrics do not have (notably `job` where pipewarden's own job label is `exported_job`).

import type { DashboardQuery } from './dashboard-files.ts';
import type { ExportedMetrics } from './exported-metrics.ts';
import { readPromqlReferences } from './promql-references.ts';

/** Problems of one query, each a sentence naming where it is; empty when the query is sound. */
export function findQueryProblems(query: DashboardQuery, exported: ExportedMetrics): string[] {
  const { where, expr } = query;
  const references = readPromqlReferences(expr);
  if (references.errors.length > 0) return [`${where}: PromQL does not parse at ${references.errors.join(', ')} in ${JSON.stringify(expr)}`];
  const problems: string[] = [];
  if (references.selectors.length === 0) problems.push(`${where}: reads no metric at all (${JSON.stringify(expr)})`);
  for (const selector of references.selectors) {
    if (selector.metric === undefined) {
      problems.push(`${where}: a selector names no metric (or only by regex), so it cannot be checked; name the metric in ${JSON.stringify(expr)}`);
      continue;
    }
    if (!exported.names.has(selector.metric)) {
      problems.push(`${where}: ${selector.metric} is not a metric pipewarden exports (see src/telemetry/metrics.ts)`);
      continue;
    }
    for (const label of selector.labels) problems.push(...labelProblems(where, label, [selector.metric], exported));
  }
  for (const aggregation of references.aggregations) {
    const known = aggregation.metrics.filter((metric) => exported.names.has(metric));
    if (known.length === 0) continue;
    for (const label of aggregation.labels) problems.push(...labelProblems(where, label, known, exported));
  }
  return problems;
}

function labelProblems(where: string, label: string, metrics: string[], exported: ExportedMetrics): string[] {
  const ownJob = metrics.filter((metric) => exported.withOwnJob.has(metric));
  if (label === 'job' && ownJob.length > 0) {
    return [`${where}: \`job\` on ${ownJob.join(', ')} is the scrape job; pipewarden's own job label is stored as \`exported_job\``];
  }
  if (metrics.some((metric) => exported.labels.get(metric)?.has(label))) return [];
  return [`${where}: label \`${label}\` is not a label of ${metrics.join(', ')}`];
}
