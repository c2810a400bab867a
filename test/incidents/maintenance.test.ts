// Maintenance windows: a cron says when each starts, `duration` how long it lasts; inside one,
// matching incidents notify no one. Time zones follow schedule.timezone.

import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.ts';
import { activeMaintenanceWindows } from '../../src/incidents/maintenance.ts';

const SUNDAY_NIGHT = { assets: ['shop.raw.*'], checks: [], cron: '0 2 * * SUN', duration: 2 * 3_600_000, reason: 'weekly vacuum' };

describe('activeMaintenanceWindows', () => {
  it.each([
    { at: '2025-06-08T01:59:59Z', active: false, why: 'a second before it starts' },
    { at: '2025-06-08T02:00:00Z', active: true, why: 'the moment it starts' },
    { at: '2025-06-08T03:59:59Z', active: true, why: 'a second before it ends' },
    { at: '2025-06-08T04:00:00Z', active: false, why: 'the moment it ends' },
    { at: '2025-06-09T02:30:00Z', active: false, why: 'Monday at the same hour' },
  ])('is $active $why', ({ at, active }) => {
    const windows = activeMaintenanceWindows([SUNDAY_NIGHT], new Date(at), 'UTC');
    expect(windows.length === 1).toBe(active);
    if (active) expect(windows[0]).toMatchObject({ startsAt: new Date('2025-06-08T02:00:00Z'), endsAt: new Date('2025-06-08T04:00:00Z'), reason: 'weekly vacuum', createdBy: 'config' });
  });

  it('reads the cron in the configured time zone', () => {
    // 02:00 in Athens (UTC+3 in June) is 23:00 UTC on Saturday.
    expect(activeMaintenanceWindows([SUNDAY_NIGHT], new Date('2025-06-07T23:30:00Z'), 'Europe/Athens')).toHaveLength(1);
    expect(activeMaintenanceWindows([SUNDAY_NIGHT], new Date('2025-06-07T23:30:00Z'), 'UTC')).toHaveLength(0);
  });

  it('refuses a cron it could not evaluate, in the config', () => {
    const result = configSchema.safeParse({
      warehouses: { shop: { type: 'postgres', url: 'postgres://x@127.0.0.1/shop' } },
      incidents: { maintenance: [{ cron: 'every sunday', duration: '2h', reason: 'vacuum' }] },
    });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain('expected a cron expression like \\"0 2 * * SUN\\"');
  });
});
