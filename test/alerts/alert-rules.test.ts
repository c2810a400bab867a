// The alerting rules in alerts/ are valid, pass their promtool unit tests, read only metrics
// pipewarden defines, and link to sections of docs/alerts.md that exist.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Histogram, Summary } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/telemetry/metrics.ts';
import { alertFiles, headingAnchors, metricNamesIn, readAlertRules, runPromtool, testedAlertNames } from './alert-rules.ts';

const DOCS_URL = 'https://github.com/pipewarden/pipewarden/blob/main/docs/alerts.md';
const DOCS_FILE = path.join(import.meta.dirname, '../../docs/alerts.md');
const SEVERITIES = ['critical', 'warning'];
/** Series Prometheus adds to every target itself, not exported by pipewarden. */
const PROMETHEUS_METRICS = ['up'];
const SUFFIXES = ['_bucket', '_sum', '_count'];

/** Every metric name pipewarden exposes, process metrics included (the rules read their start time). */
function definedMetricNames(): Set<string> {
  const names = new Set<string>(PROMETHEUS_METRICS);
  // The objects are the Counter/Gauge/Histogram instances (their `type` field is typed as an enum
  // but holds a string at run time, so the class is the reliable test).
  for (const metric of new Metrics().registry.getMetricsAsArray()) {
    names.add(metric.name);
    if (metric instanceof Histogram || metric instanceof Summary) for (const suffix of SUFFIXES) names.add(`${metric.name}${suffix}`);
  }
  return names;
}

describe('alert rules', () => {
  it('pass promtool check rules', async () => {
    const files = await alertFiles('.rules.yml');
    expect(files.length, 'alerts/*.rules.yml').toBeGreaterThan(0);
    const result = await runPromtool(['check', 'rules', ...files]);
    expect(result.code, result.output).toBe(0);
  });

  it('pass their promtool unit tests', async () => {
    const files = await alertFiles('.test.yml');
    expect(files.length, 'alerts/*.test.yml').toBeGreaterThan(0);
    const result = await runPromtool(['test', 'rules', ...files]);
    expect(result.code, result.output).toBe(0);
  });

  it('have a unit test where each alert fires and one where it stays quiet', async () => {
    const { firing, quiet } = await testedAlertNames();
    const alerts = (await readAlertRules()).map((rule) => rule.alert);
    expect(alerts.filter((alert) => !firing.has(alert)), 'alerts with no test expecting them to fire').toEqual([]);
    expect(alerts.filter((alert) => !quiet.has(alert)), 'alerts with no test expecting them to stay quiet').toEqual([]);
  });

  it('read only metrics pipewarden defines', async () => {
    const defined = definedMetricNames();
    const unknown = (await readAlertRules()).flatMap((rule) =>
      metricNamesIn(rule.expr)
        .filter((name) => !defined.has(name))
        .map((name) => `${rule.file}: alert ${rule.alert} reads ${name}, which src/telemetry/metrics.ts does not define`),
    );
    expect(unknown).toEqual([]);
  });

  it('each carry a severity, a summary, a description and a runbook link into docs/alerts.md', async () => {
    const anchors = headingAnchors(await readFile(DOCS_FILE, 'utf8'));
    const problems: string[] = [];
    for (const rule of await readAlertRules()) {
      const where = `${rule.file}: alert ${rule.alert}`;
      if (!SEVERITIES.includes(rule.labels.severity ?? '')) problems.push(`${where}: labels.severity must be one of ${SEVERITIES.join(', ')}`);
      for (const key of ['summary', 'description']) if (!rule.annotations[key]) problems.push(`${where}: annotations.${key} is missing`);
      const url = rule.annotations.runbook_url ?? '';
      const anchor = url.startsWith(`${DOCS_URL}#`) ? url.slice(DOCS_URL.length + 1) : undefined;
      if (anchor === undefined) problems.push(`${where}: annotations.runbook_url must start with ${DOCS_URL}#`);
      else if (!anchors.has(anchor)) problems.push(`${where}: annotations.runbook_url points at #${anchor}, which is no heading in docs/alerts.md`);
    }
    expect(problems).toEqual([]);
  });
});

describe('metricNamesIn', () => {
  it('finds pipewarden metrics and up, not label values, label names or functions', () => {
    const expr = 'time() - max by (job) (pipewarden_last_sweep_timestamp_seconds{kind="up"}) > 1 and on (job) up{job="pipewarden_x"} or absent(pipewarden_job_runs_total[5m])';
    expect(metricNamesIn(expr)).toEqual(['pipewarden_job_runs_total', 'pipewarden_last_sweep_timestamp_seconds', 'up']);
  });
});

describe('headingAnchors', () => {
  it('makes GitHub anchors of headings outside code blocks', () => {
    const anchors = headingAnchors('# Alerts on pipewarden\n## PipewardenDown\n  ```yaml\n  # not: a heading\n  ```\n### Why? (really)\n');
    expect([...anchors]).toEqual(['alerts-on-pipewarden', 'pipewardendown', 'why-really']);
  });
});
