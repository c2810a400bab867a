// Rules that relate one part of the config to another, which a schema cannot express. They read
// the document as written (not the parsed Config) so they still run when the schema found other
// problems: a person fixing a file wants every mistake at once. Values the schema rejects are
// skipped here; the schema already reports them.

import picomatch from 'picomatch';
import { formatDuration, parseDuration } from './duration.ts';
import { closestMatch, suggestion } from './did-you-mean.ts';
import type { PathProblem } from './describe-issues.ts';

type Fields = Record<string, unknown>;

function asFields(value: unknown): Fields | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Fields) : undefined;
}

function asStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function monitorsOf(input: Fields): (Fields | undefined)[] {
  return Array.isArray(input.monitors) ? input.monitors.map(asFields) : [];
}

function ownerProblem(owner: string, path: PathProblem['path'], owners: readonly string[]): PathProblem {
  const hint = owners.length === 0 ? `no owners are defined; add "${owner}" under owners` : suggestion(owner, owners);
  return { path, target: 'value', message: `unknown owner "${owner}"; ${hint}` };
}

function checkOwners(input: Fields): PathProblem[] {
  const owners = Object.keys(asFields(input.owners) ?? {});
  const problems: PathProblem[] = [];
  monitorsOf(input).forEach((monitor, index) => {
    const owner = monitor?.owner;
    if (typeof owner === 'string' && !owners.includes(owner)) problems.push(ownerProblem(owner, ['monitors', index, 'owner'], owners));
  });
  for (const section of ['airflow', 'sqlmesh'] as const) {
    const sources = Array.isArray(input[section]) ? (input[section] as unknown[]).map(asFields) : [];
    sources.forEach((source, index) => {
      const owner = source?.owner;
      if (typeof owner === 'string' && !owners.includes(owner)) problems.push(ownerProblem(owner, [section, index, 'owner'], owners));
    });
  }
  const fallback = asFields(input.notifications)?.default_owner;
  if (typeof fallback === 'string' && !owners.includes(fallback)) {
    problems.push(ownerProblem(fallback, ['notifications', 'default_owner'], owners));
  }
  return problems;
}

const CHECK_KEYS = ['freshness', 'volume', 'distribution'] as const;

function hasCheck(monitor: Fields): boolean {
  return CHECK_KEYS.some((key) => monitor[key] !== undefined && monitor[key] !== null && monitor[key] !== false) || monitor.schema === true;
}

/** `freshnes: true` is reported as an unknown key with "did you mean"; "no checks" would repeat it. */
function hasMisspelledCheck(monitor: Fields): boolean {
  const checkKeys = [...CHECK_KEYS, 'schema'];
  return Object.keys(monitor).some((key) => !checkKeys.includes(key) && closestMatch(key, checkKeys) !== undefined);
}

function checkMonitor(monitor: Fields, index: number): PathProblem[] {
  const problems: PathProblem[] = [];
  if (!hasCheck(monitor) && !hasMisspelledCheck(monitor)) {
    problems.push({
      path: ['monitors', index],
      target: 'value',
      message: 'monitor has no checks; add at least one of freshness, volume, distribution or "schema: true"',
    });
  }
  const freshness = asFields(monitor.freshness);
  const warn = typeof freshness?.warn_after === 'string' ? parseDuration(freshness.warn_after) : undefined;
  const error = typeof freshness?.error_after === 'string' ? parseDuration(freshness.error_after) : undefined;
  if (warn !== undefined && error !== undefined && warn >= error) {
    problems.push({
      path: ['monitors', index, 'freshness', 'warn_after'],
      target: 'value',
      message: `warn_after (${formatDuration(warn)}) must be shorter than error_after (${formatDuration(error)}); the warning comes before the failure`,
    });
  }
  return problems;
}

function globProblem(glob: string, path: PathProblem['path'], warehouses: readonly string[]): PathProblem {
  const [first = '', ...rest] = glob.split('.');
  const close = closestMatch(first, warehouses);
  const hint = close !== undefined ? `did you mean "${[close, ...rest].join('.')}"?` : `start it with one of: ${warehouses.join(', ')}`;
  return { path, target: 'value', message: `"${glob}" names no warehouse (a glob's first part is the warehouse name); ${hint}` };
}

/** With several warehouses, a glob's first dot-separated part says which warehouse it is about. */
function checkGlobWarehouses(input: Fields): PathProblem[] {
  const warehouses = Object.keys(asFields(input.warehouses) ?? {});
  if (warehouses.length < 2) return [];
  const problems: PathProblem[] = [];
  monitorsOf(input).forEach((monitor, index) => {
    for (const key of ['assets', 'exclude'] as const) {
      asStrings(monitor?.[key]).forEach((glob, position) => {
        const first = glob.split('.')[0] ?? '';
        // The first part may itself be a glob (`*.public.orders` watches every warehouse).
        if (!warehouses.some((name) => picomatch.isMatch(name, first))) problems.push(globProblem(glob, ['monitors', index, key, position], warehouses));
      });
    }
  });
  return problems;
}

/** Cross-field problems in the document as written (after ${ENV} interpolation). */
export function checkConfigRules(input: unknown): PathProblem[] {
  const fields = asFields(input);
  if (!fields) return [];
  const monitorProblems = monitorsOf(fields).flatMap((monitor, index) => (monitor ? checkMonitor(monitor, index) : []));
  return [...checkOwners(fields), ...monitorProblems, ...checkGlobWarehouses(fields), ...checkDbtWarehouses(fields)];
}

/** A dbt target's `warehouse` names one under `warehouses`: its models become that warehouse's tables. */
function checkDbtWarehouses(input: Fields): PathProblem[] {
  const warehouses = Object.keys(asFields(input.warehouses) ?? {});
  const targets = Array.isArray(input.dbt) ? input.dbt.map(asFields) : [];
  const problems: PathProblem[] = [];
  targets.forEach((target, index) => {
    const warehouse = target?.warehouse;
    if (typeof warehouse !== 'string' || warehouses.includes(warehouse)) return;
    const close = closestMatch(warehouse, warehouses);
    const hint = close !== undefined ? `did you mean "${close}"?` : `use one of: ${warehouses.join(', ')}`;
    problems.push({ path: ['dbt', index, 'warehouse'], target: 'value', message: `unknown warehouse "${warehouse}"; ${hint}` });
  });
  return problems;
}
