// Which findings are worth telling someone about: a check whose status changed since its previous
// evaluation (a new problem, a worse or better one, a recovery). A check that stays failing is
// not repeated every sweep; incidents (re-notify intervals, flapping, silences) refine this later.
// Pure: statuses and config in, notifications out.

import type { Config } from '../config/schema.ts';
import type { Finding, FindingStatus } from '../types.ts';
import type { Notification } from './notification.ts';
import { routeForAsset } from './routing.ts';

export function notificationsForChanges(
  findings: readonly Finding[],
  previous: ReadonlyMap<string, FindingStatus>,
  config: Config,
): Notification[] {
  const notifications: Notification[] = [];
  for (const finding of findings) {
    const before = previous.get(finding.check);
    if (before === finding.status || (before === undefined && finding.status === 'ok')) continue;
    notifications.push({
      check: finding.check,
      asset: finding.asset,
      status: finding.status,
      ...(before === undefined ? {} : { previousStatus: before }),
      route: routeForAsset(config, finding.asset),
      text: describeChange(finding, before),
    });
  }
  return notifications;
}

function describeChange(finding: Finding, before: FindingStatus | undefined): string {
  if (finding.status === 'ok') return `RECOVERED ${finding.kind}: ${finding.message}`;
  const label = finding.status === 'error' ? 'CANNOT MEASURE' : finding.status.toUpperCase();
  const was = before === undefined ? '' : ` (was ${before})`;
  return `${label} ${finding.kind}${was}: ${finding.message}`;
}
