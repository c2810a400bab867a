// Reads the alerting rule files in alerts/ and runs promtool on them, for the alert rule tests.

import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';

export const ALERTS_DIR = path.join(import.meta.dirname, '../../alerts');

export interface AlertRule {
  file: string;
  group: string;
  alert: string;
  expr: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface PromtoolRun {
  code: number;
  output: string;
}

/** alerts/*.rules.yml or alerts/*.test.yml, as absolute paths, sorted. */
export async function alertFiles(suffix: '.rules.yml' | '.test.yml'): Promise<string[]> {
  const names = await readdir(ALERTS_DIR);
  return names
    .filter((name) => name.endsWith(suffix))
    .sort()
    .map((name) => path.join(ALERTS_DIR, name));
}

/** Every alerting rule (recording rules left out) of every rule file. */
export async function readAlertRules(): Promise<AlertRule[]> {
  const rules: AlertRule[] = [];
  for (const file of await alertFiles('.rules.yml')) {
    const document = parse(await readFile(file, 'utf8')) as { groups?: { name: string; rules?: Record<string, unknown>[] }[] };
    for (const group of document.groups ?? []) {
      for (const rule of group.rules ?? []) {
        if (typeof rule.alert !== 'string') continue;
        rules.push({
          file: path.basename(file),
          group: group.name,
          alert: rule.alert,
          expr: String(rule.expr),
          labels: (rule.labels ?? {}) as Record<string, string>,
          annotations: (rule.annotations ?? {}) as Record<string, string>,
        });
      }
    }
  }
  return rules;
}

/** Alert names that some promtool unit test expects to fire, and those it expects to stay quiet. */
export async function testedAlertNames(): Promise<{ firing: Set<string>; quiet: Set<string> }> {
  const firing = new Set<string>();
  const quiet = new Set<string>();
  for (const file of await alertFiles('.test.yml')) {
    const document = parse(await readFile(file, 'utf8')) as { tests?: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[] };
    for (const test of document.tests ?? []) {
      for (const expectation of test.alert_rule_test ?? []) {
        (expectation.exp_alerts?.length ? firing : quiet).add(expectation.alertname);
      }
    }
  }
  return { firing, quiet };
}

/**
 * Runs promtool without a shell (file names are arguments, never command text). A missing
 * promtool is a failure, not a skip: CI installs it, and a skipped check would prove nothing.
 */
export function runPromtool(args: readonly string[]): Promise<PromtoolRun> {
  const command = process.env.PROMTOOL ?? 'promtool';
  return new Promise((resolve) => {
    execFile(command, args, { cwd: ALERTS_DIR, encoding: 'utf8' }, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      if (error === null) resolve({ code: 0, output });
      else if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        resolve({ code: 127, output: `${command} was not found: install Debian's prometheus package (apt-get install prometheus), as .ci/run does, or set PROMTOOL to its path` });
      } else resolve({ code: typeof error.code === 'number' ? error.code : 1, output: output || error.message });
    });
  });
}

/**
 * Metric names a PromQL expression reads: pipewarden's by their prefix, plus Prometheus's own
 * `up`. Label names and values are dropped first so `{kind="up"}` is not taken for a metric.
 */
export function metricNamesIn(expr: string): string[] {
  const withoutMatchers = expr.replace(/\{[^}]*\}/g, '{}');
  const names = new Set<string>();
  for (const match of withoutMatchers.matchAll(/\b(pipewarden_[a-z0-9_]+|up)\b(?!\s*\()/g)) names.add(match[1] as string);
  return [...names].sort();
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  // A `# comment` inside a fenced block is not a heading.
  const prose = markdown.replace(/^[ \t]*```[\s\S]*?^[ \t]*```/gm, '');
  for (const match of prose.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const anchor = (match[1] as string)
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    anchors.add(anchor);
  }
  return anchors;
}
