// Maintenance windows from the config: recurring silences. A window is active from each time its
// cron fires for `duration`; while active it is a silence like any other (with the config as its
// creator), so incidents still open and count but notify no one.

import { CronExpressionParser } from 'cron-parser';
import type { MaintenanceWindowConfig } from '../config/schema.ts';
import type { Silence } from './silences.ts';

export function activeMaintenanceWindows(windows: readonly MaintenanceWindowConfig[], now: Date, timezone: string | undefined): Silence[] {
  const active: Silence[] = [];
  windows.forEach((window, index) => {
    // Parsing from just after now makes a window that starts exactly now count as started.
    const fires = CronExpressionParser.parse(window.cron, { currentDate: new Date(now.getTime() + 1), ...(timezone ? { tz: timezone } : {}) });
    const startsAt = fires.prev().toDate();
    const endsAt = new Date(startsAt.getTime() + window.duration);
    if (now.getTime() >= endsAt.getTime()) return;
    active.push({ id: `maintenance:${index}`, assetGlobs: window.assets, checkGlobs: window.checks, startsAt, endsAt, reason: window.reason, createdBy: 'config' });
  });
  return active;
}
