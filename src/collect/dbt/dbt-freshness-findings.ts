// Findings from sources.json (`dbt source freshness`): dbt measured how old each source's newest
// row was and judged it against the source's warn_after / error_after. The check id carries a
// `dbt` part so it never shares an incident with pipewarden's own freshness check of the same
// table, which judges the same table by other rules and would flap against it.

import { checkId, type Finding, type FindingStatus } from '../../types.ts';
import { formatAge } from '../../detect/format-age.ts';
import { assetKeyFor, type DbtAssetMapping } from './asset-key-for.ts';
import type { DbtManifest } from './dbt-manifest.ts';
import { oneLine, runStamp } from './dbt-message-parts.ts';
import type { DbtSourceFreshness, DbtSourceFreshnessResult } from './dbt-source-freshness.ts';
import { ruleSeconds, type FreshnessRule } from './lenient-fields.ts';

export const DBT_FRESHNESS_CHECK_PART = 'dbt';

export interface DbtFreshnessFindingsInput {
  sources: DbtSourceFreshness;
  manifest?: DbtManifest | null;
  mapping: DbtAssetMapping;
  now: Date;
}

const STATUS: Readonly<Record<string, FindingStatus>> = { pass: 'ok', warn: 'warn', error: 'fail', 'runtime error': 'error' };

export function dbtFreshnessFindings(input: DbtFreshnessFindingsInput): Finding[] {
  return input.sources.results.map((result) => freshnessFinding(result, input));
}

function freshnessFinding(result: DbtSourceFreshnessResult, input: DbtFreshnessFindingsInput): Finding {
  const node = input.manifest?.nodes.get(result.uniqueId) ?? null;
  const asset = node ? assetKeyFor(node, input.mapping) : result.uniqueId;
  const subject = asset === result.uniqueId ? 'dbt source freshness' : `dbt source freshness of ${result.uniqueId}`;
  const status = STATUS[result.status] ?? 'error';
  const stamp = runStamp('checked', result.snapshottedAt ?? input.sources.generatedAt, input.now);
  const warn = ruleSeconds(result.criteria?.warnAfter ?? null);
  const error = ruleSeconds(result.criteria?.errorAfter ?? null);
  const high = warn ?? error;
  const base = { check: checkId('freshness', asset, DBT_FRESHNESS_CHECK_PART), kind: 'freshness' as const, asset, status };
  if (result.status === 'runtime error' || result.maxLoadedAtTimeAgoInS === null) {
    const why = result.error ? oneLine(result.error) : `status '${result.status}' and no age measured`;
    return { ...base, status: status === 'ok' ? 'error' : status, observed: null, message: `${asset}: ${subject} could not be measured: ${why} ${stamp}` };
  }
  const column = node?.loadedAtField ? ` (${node.loadedAtField})` : '';
  const verdict = status === 'ok' ? 'fresh' : status === 'warn' ? 'late (warn)' : status === 'fail' ? 'stale (error)' : `'${result.status}'`;
  const limits = [describeRule('warn after', result.criteria?.warnAfter ?? null), describeRule('fail after', result.criteria?.errorAfter ?? null)]
    .filter((part) => part !== null)
    .join(', ');
  const message =
    `${asset}: ${subject}: ${verdict}, newest row${column} was ${formatAge(result.maxLoadedAtTimeAgoInS * 1000)} old` +
    `${limits ? ` (${limits})` : ''} ${stamp}`;
  return {
    ...base,
    observed: result.maxLoadedAtTimeAgoInS,
    ...(high === null ? {} : { expected: { low: 0, high } }),
    message,
  };
}

function describeRule(label: string, rule: FreshnessRule | null): string | null {
  const seconds = ruleSeconds(rule);
  if (rule === null) return null;
  return seconds === null ? `${label} ${rule.count} ${rule.period}` : `${label} ${formatAge(seconds * 1000)}`;
}
