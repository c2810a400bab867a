// Findings from one dbt invocation's run_results: each model, seed and snapshot as built or not,
// each data test and unit test as passed, warned or failed. Pure: artifacts and `now` in, findings out.
// A test's finding is about the node it tests (so it lands on that table's asset) but keeps a
// check id of its own, `run:<asset>:<test name>`, so every test is its own incident.

import { checkId, type Finding, type FindingStatus } from '../../types.ts';
import { assetKeyFor, type DbtAssetMapping } from './asset-key-for.ts';
import type { DbtManifest, DbtNode } from './dbt-manifest.ts';
import { oneLine, resourceTypeOf, runStamp } from './dbt-message-parts.ts';
import type { DbtNodeResult, DbtRunResults } from './dbt-run-results.ts';

export interface DbtRunFindingsInput {
  runResults: DbtRunResults;
  /** Without a manifest, assets are unique_ids and tests cannot name what they test. */
  manifest?: DbtManifest | null;
  mapping: DbtAssetMapping;
  now: Date;
}

const BUILT_TYPES = new Set(['model', 'seed', 'snapshot']);
const TEST_TYPES = new Set(['test', 'unit_test']);
const FAILED = new Set(['error', 'fail', 'runtime error']);

const NODE_STATUS: Readonly<Record<string, FindingStatus>> = {
  success: 'ok',
  pass: 'ok',
  'no-op': 'ok',
  error: 'fail',
  fail: 'fail',
  'runtime error': 'fail',
  skipped: 'warn',
  'partial success': 'warn',
};

// A test that errored could not say whether the data is right: pipewarden's `error`.
const TEST_STATUS: Readonly<Record<string, FindingStatus>> = {
  pass: 'ok',
  success: 'ok',
  warn: 'warn',
  fail: 'fail',
  error: 'error',
  'runtime error': 'error',
};

export function dbtRunFindings(input: DbtRunFindingsInput): Finding[] {
  const { runResults, manifest, mapping, now } = input;
  const byId = new Map(runResults.results.map((result) => [result.uniqueId, result]));
  const stamp = runStamp('run', runResults.generatedAt, now);
  const findings: Finding[] = [];
  for (const result of runResults.results) {
    const node = manifest?.nodes.get(result.uniqueId) ?? null;
    const type = node?.resourceType ?? resourceTypeOf(result.uniqueId);
    if (BUILT_TYPES.has(type)) findings.push(nodeFinding(result, node, type, { manifest, mapping, byId, stamp }));
    // Skipped tests say nothing about the data; the failure upstream that skipped them has its own finding.
    else if (TEST_TYPES.has(type) && result.status !== 'skipped') findings.push(testFinding(result, node, { manifest, mapping, stamp }));
  }
  return findings;
}

interface Context {
  manifest?: DbtManifest | null;
  mapping: DbtAssetMapping;
  stamp: string;
}

function nodeFinding(
  result: DbtNodeResult,
  node: DbtNode | null,
  type: string,
  context: Context & { byId: ReadonlyMap<string, DbtNodeResult> },
): Finding {
  const asset = node ? assetKeyFor(node, context.mapping) : result.uniqueId;
  const subject = asset === result.uniqueId ? `dbt ${type}` : `dbt ${type} ${result.uniqueId}`;
  const status = NODE_STATUS[result.status] ?? 'error';
  const dbtSays = result.message ? oneLine(result.message) : null;
  let what: string;
  if (status === 'ok') what = `built (${result.status}${dbtSays ? `: ${dbtSays}` : ''})`;
  else if (status === 'fail') what = `failed: ${dbtSays ?? `dbt reported ${result.status} with no message`}`;
  else if (result.status === 'skipped') what = skippedReason(result, context.manifest ?? null, context.byId);
  else if (result.status === 'partial success') what = `partly built: ${dbtSays ?? 'some batches failed'}`;
  else what = `ended with status '${result.status}', which pipewarden does not know${dbtSays ? `: ${dbtSays}` : ''}`;
  return {
    check: checkId('run', asset),
    kind: 'run',
    asset,
    status,
    observed: result.executionTime,
    message: `${asset}: ${subject} ${what} ${context.stamp}`,
  };
}

function skippedReason(result: DbtNodeResult, manifest: DbtManifest | null, byId: ReadonlyMap<string, DbtNodeResult>): string {
  const failedUpstream = manifest ? findFailedUpstream(result.uniqueId, manifest, byId) : null;
  if (failedUpstream) return `was skipped because upstream ${failedUpstream} failed`;
  if (result.message) return `was skipped: ${oneLine(result.message)}`;
  return 'was skipped (dbt skips a node when something upstream of it failed)';
}

function findFailedUpstream(uniqueId: string, manifest: DbtManifest, byId: ReadonlyMap<string, DbtNodeResult>): string | null {
  const seen = new Set<string>([uniqueId]);
  const queue = [...(manifest.nodes.get(uniqueId)?.dependsOn ?? [])];
  while (queue.length > 0) {
    const id = queue.shift()!;
    if (seen.has(id)) continue;
    seen.add(id);
    if (FAILED.has(byId.get(id)?.status ?? '')) return id;
    queue.push(...(manifest.nodes.get(id)?.dependsOn ?? []));
  }
  return null;
}

function testFinding(result: DbtNodeResult, node: DbtNode | null, context: Context): Finding {
  const tested = node?.test?.testedNode ? (context.manifest?.nodes.get(node.test.testedNode) ?? null) : null;
  const asset = tested ? assetKeyFor(tested, context.mapping) : (node?.test?.testedNode ?? result.uniqueId);
  const name = node?.name ?? testNameOf(result.uniqueId);
  const kind = node?.resourceType === 'unit_test' || result.uniqueId.startsWith('unit_test.') ? 'unit test' : 'test';
  const status = TEST_STATUS[result.status] ?? 'error';
  const dbtSays = result.message ? oneLine(result.message) : null;
  let what: string;
  if (status === 'ok') what = 'passed';
  else if (!TEST_STATUS[result.status]) what = `ended with status '${result.status}', which pipewarden does not know`;
  else if (status === 'error') what = `could not run (${result.status}): ${dbtSays ?? 'no message from dbt'}`;
  else {
    const verb = status === 'fail' ? 'failed' : 'warned';
    const rows = result.failures === null ? '' : ` with ${result.failures} failing ${result.failures === 1 ? 'row' : 'rows'}`;
    const said = dbtSays ? ` (${dbtSays})` : '';
    const sql = node?.compiledPath ? `; compiled SQL: ${node.compiledPath}` : '';
    what = `${verb}${rows}${said}${sql}`;
  }
  return {
    check: checkId('run', asset, name),
    kind: 'run',
    asset,
    status,
    observed: result.failures,
    message: `${asset}: dbt ${kind} ${name} ${what} ${context.stamp}`,
  };
}

// `test.jaffle_shop.not_null_orders_order_id.cf6c17daed` → `not_null_orders_order_id`;
// `unit_test.jaffle_shop.orders.test_totals` → `test_totals`.
function testNameOf(uniqueId: string): string {
  const parts = uniqueId.split('.');
  if (parts[0] === 'unit_test' && parts.length >= 4) return parts.slice(3).join('.');
  return parts.length >= 3 ? parts[2]! : uniqueId;
}
