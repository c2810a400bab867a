// Which runbook recovers an incident: the first, in file-name order, whose `match` takes the
// finding's check kind, its asset and its `when` condition. A runbook without `match` only runs
// by hand. A `when` that cannot be evaluated for this finding is logged and counts as no match:
// a bad condition must not stop the incident from paging.

import type { Logger } from 'pino';
import { assetMatcher } from '../config/asset-globs.ts';
import { errorMessage } from '../errors.ts';
import type { Finding } from '../types.ts';
import { evaluateCondition } from './cel.ts';
import type { LoadedRunbook } from './loaded-runbook.ts';
import { assetInfo } from './run-session.ts';

export interface MatchSubject {
  finding: Finding;
  incident: { id: string; severity: string; status: string; owner: string | null };
}

export function matchRunbook(runbooks: readonly LoadedRunbook[], subject: MatchSubject, logger: Logger): LoadedRunbook | undefined {
  return runbooks.find((runbook) => matches(runbook, subject, logger));
}

function matches(runbook: LoadedRunbook, subject: MatchSubject, logger: Logger): boolean {
  const match = runbook.definition.match;
  if (match === undefined) return false;
  const { finding, incident } = subject;
  if (match.checks !== undefined && !match.checks.includes(finding.kind)) return false;
  if (match.assets !== undefined && !assetMatcher(match.assets)(finding.asset)) return false;
  if (runbook.when === undefined) return true;
  try {
    const variables = { finding, asset: assetInfo(finding.asset, incident.owner ?? undefined), incident, params: {} };
    return evaluateCondition(runbook.when, variables);
  } catch (error) {
    logger.warn({ runbook: runbook.definition.name, check: finding.check }, `runbook ${runbook.definition.name}: match.when ${errorMessage(error)}; not running it for this incident`);
    return false;
  }
}
