// How `pipewarden backtest` prints its result: `--json` as { alerts: [...], summary: { checks,
// buckets, warn, fail, days } } (field names kept stable, like check --json's), or for people a
// table of alerts grouped by check and a summary: alerts per check, per day, and the checks that
// never alerted — the ones a person tuning sensitivity wants to see side by side.

import type { BacktestResult } from '../collect/backtest.ts';
import type { CheckReplay } from '../collect/backtest-replay.ts';
import { formatLocalTime } from '../detect/describe-bucket.ts';
import { formatAge } from '../detect/format-age.ts';
import { formatNumber, formatRange } from '../detect/format-number.ts';
import type { CheckKind, ExpectedRange, Finding } from '../types.ts';
import { type CliIo, writeJson, writeLine } from './cli-io.ts';

export interface BacktestAlert {
  check: string;
  kind: CheckKind;
  asset: string;
  column?: string;
  status: 'warn' | 'fail';
  bucket: string;
  observed: number | null;
  expected: ExpectedRange | null;
  score: number | null;
  message: string;
}

export interface BacktestSummary {
  checks: number;
  /** Buckets scored (for freshness: gaps between updates judged) across all checks. */
  buckets: number;
  warn: number;
  fail: number;
  days: number;
}

export function backtestAlerts(result: BacktestResult): BacktestAlert[] {
  return result.checks.flatMap((replay) => replay.alerts.map(toAlert));
}

function toAlert(finding: Finding): BacktestAlert {
  return {
    check: finding.check,
    kind: finding.kind,
    asset: finding.asset,
    ...(finding.column === undefined ? {} : { column: finding.column }),
    status: finding.status === 'fail' ? 'fail' : 'warn',
    bucket: finding.bucket ?? '',
    observed: finding.observed,
    expected: finding.expected ?? null,
    score: finding.score ?? null,
    message: finding.message,
  };
}

export function summarizeBacktest(result: BacktestResult, days: number): BacktestSummary {
  const alerts = backtestAlerts(result);
  return {
    checks: result.checks.length,
    buckets: result.checks.reduce((sum, replay) => sum + replay.buckets, 0),
    warn: alerts.filter((alert) => alert.status === 'warn').length,
    fail: alerts.filter((alert) => alert.status === 'fail').length,
    days,
  };
}

export function writeBacktestJson(io: CliIo, result: BacktestResult, days: number): void {
  writeJson(io.stdout, { alerts: backtestAlerts(result), summary: summarizeBacktest(result, days) });
}

export function printBacktest(io: CliIo, result: BacktestResult, days: number, timezone?: string): void {
  const date = (at: Date) => formatLocalTime(at, timezone, true).slice(0, 10);
  writeLine(io.stdout, `backtest of ${days} days (${date(result.from)} to ${date(result.to)}) with the current settings, from stored history`);
  for (const replay of result.checks.filter((candidate) => candidate.alerts.length > 0)) {
    writeLine(io.stdout, '');
    writeLine(io.stdout, `${replay.check}: ${count(replay.alerts.length, 'alert')} in ${count(replay.buckets, replay.kind === 'freshness' ? 'gap' : 'bucket')}`);
    for (const alert of replay.alerts.map(toAlert)) writeLine(io.stdout, `  ${alertLine(alert, timezone)}`);
  }
  writeLine(io.stdout, '');
  printSummary(io, result, days, date);
}

function alertLine(alert: BacktestAlert, timezone?: string): string {
  const value = (v: number) => (alert.kind === 'freshness' ? formatAge(v * 1000) : formatNumber(v));
  const observed = alert.observed === null ? '-' : value(alert.observed);
  const { low, high } = alert.expected ?? { low: null, high: null };
  const expected = low === null || high === null ? '-' : alert.kind === 'freshness' ? `≤ ${value(high)}` : formatRange(low, high, alert.kind === 'volume', value);
  const score = alert.score === null ? '-' : formatNumber(alert.score);
  const when = formatLocalTime(new Date(alert.bucket), timezone, true);
  return `${alert.status.toUpperCase().padEnd(4)}  ${when}  observed ${observed}  expected ${expected}  score ${score}  ${alert.message}`;
}

function printSummary(io: CliIo, result: BacktestResult, days: number, date: (at: Date) => string): void {
  const summary = summarizeBacktest(result, days);
  writeLine(io.stdout, `${count(summary.checks, 'check')} · ${count(summary.buckets, 'bucket')} replayed · ${summary.fail} fail · ${summary.warn} warn`);
  if (summary.checks === 0) {
    writeLine(io.stdout, 'no checks to replay: no monitored table in the last sweep matches (run `pipewarden start` or `pipewarden check` first, or widen --select)');
    return;
  }
  const alerting = result.checks.filter((replay) => replay.alerts.length > 0);
  if (alerting.length > 0) {
    writeLine(io.stdout, `alerts per check: ${alerting.map((replay) => `${replay.check} ${replay.alerts.length}`).join(', ')}`);
    const perDay = new Map<string, number>();
    for (const alert of backtestAlerts(result)) perDay.set(date(new Date(alert.bucket)), (perDay.get(date(new Date(alert.bucket))) ?? 0) + 1);
    writeLine(io.stdout, `alerts per day: ${[...perDay].sort(([a], [b]) => a.localeCompare(b)).map(([day, n]) => `${day} ${n}`).join(', ')}`);
  }
  const quiet = (replays: CheckReplay[]) => replays.map((replay) => replay.check).join(', ');
  const neverAlerted = result.checks.filter((replay) => replay.alerts.length === 0 && replay.buckets > 0);
  const unreplayed = result.checks.filter((replay) => replay.buckets === 0);
  if (neverAlerted.length > 0) writeLine(io.stdout, `never alerted: ${quiet(neverAlerted)}`);
  if (unreplayed.length > 0) writeLine(io.stdout, `no stored history in the window: ${quiet(unreplayed)}`);
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
