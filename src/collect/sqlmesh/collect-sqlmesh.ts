// One SQLMesh source, end to end: read its environment from the state database, keep the models
// its globs select, and judge each one's intervals. What the daemon's sweep calls per source.

import type { Logger } from 'pino';
import { assetMatcher } from '../../config/asset-globs.ts';
import type { Finding } from '../../types.ts';
import { evaluateSqlmeshIntervals } from './evaluate-sqlmesh-intervals.ts';
import { readSqlmeshState } from './read-sqlmesh-state.ts';
import type { SqlmeshSourceConfig } from './sqlmesh-config.ts';

export interface SqlmeshCollection {
  source: string;
  /** The source's owner for every finding, when the config names one. */
  owner: string | undefined;
  findings: Finding[];
  /** Things to log once per sweep: an unknown state version, an unreadable start date… */
  notes: string[];
  schemaVersion: number | undefined;
}

/** Findings for the selected models of one source; throws a SqlmeshStateError when it cannot read. */
export async function collectSqlmeshFindings(source: SqlmeshSourceConfig, now: Date, logger?: Logger): Promise<SqlmeshCollection> {
  const state = await readSqlmeshState(
    { name: source.name, url: source.url, schema: source.schema, environment: source.environment, statementTimeoutMs: source.statement_timeout },
    now,
    logger,
  );
  const selected = assetMatcher(source.models ?? ['**']);
  const excluded = assetMatcher(source.exclude);
  const settings = { lateAfterMs: source.late_after, lookbackMs: source.lookback };
  const findings: Finding[] = [];
  for (const model of state.models) {
    if (!selected(model.name) || excluded(model.name)) continue;
    const finding = evaluateSqlmeshIntervals(model, settings, now);
    if (finding !== undefined) findings.push(finding);
  }
  return { source: source.name, owner: source.owner, findings, notes: state.notes, schemaVersion: state.schemaVersion };
}
