// Roles from Slack user and user-group ids: the highest grant wins, unlisted people get the
// default, and each operation names the role it needs when it refuses.

import { describe, expect, it } from 'vitest';
import { authorize, decide, roleOf, type RoleConfig } from '../../src/chat/access-control.ts';

const CONFIG: RoleConfig = {
  roles: { U_ADMIN: 'admin', U_RESP: 'responder', S_ONCALL: 'responder', S_LEADS: 'admin', U_VIEW: 'viewer' },
  defaultRole: 'viewer',
};

const groups: Record<string, string[]> = { U_GROUPED: ['S_ONCALL'], U_LEAD_VIEWER: ['S_LEADS'], U_VIEW: [] };
const lookup = async (user: string) => groups[user] ?? [];

describe('Slack access control', () => {
  it('takes the highest role any of the person’s ids grants', async () => {
    expect(await roleOf('U_ADMIN', CONFIG, lookup)).toBe('admin');
    expect(await roleOf('U_GROUPED', CONFIG, lookup)).toBe('responder');
    // Listed as a viewer themself, but in an admin group.
    expect(await roleOf('U_LEAD_VIEWER', { ...CONFIG, roles: { ...CONFIG.roles, U_LEAD_VIEWER: 'viewer' } }, lookup)).toBe('admin');
    expect(await roleOf('U_STRANGER', CONFIG, lookup)).toBe('viewer');
    expect(await roleOf('U_STRANGER', { ...CONFIG, defaultRole: 'none' }, lookup)).toBe('none');
  });

  it('does not look up groups when no group is listed', async () => {
    let lookups = 0;
    const counting = async () => {
      lookups += 1;
      return [];
    };
    await roleOf('U_RESP', { roles: { U_RESP: 'responder' }, defaultRole: 'viewer' }, counting);
    expect(lookups).toBe(0);
  });

  it('lets viewers read and refuses them the rest, saying what is needed', () => {
    expect(decide('viewer', 'read')).toEqual({ allowed: true, role: 'viewer' });
    expect(decide('viewer', 'acknowledge')).toEqual({
      allowed: false,
      role: 'viewer',
      reason: 'You have the viewer role; acknowledge needs responder or above. Ask an admin to add you or one of your user groups to `slack.roles`.',
    });
    expect(decide('none', 'read').reason).toMatch(/^You have no pipewarden role; read needs viewer/);
  });

  it('lets responders and admins act, including destructive runs', async () => {
    for (const operation of ['acknowledge', 'resolve', 'silence', 'unsilence', 'mark_expected', 'approve', 'run_runbook', 'run_destructive_runbook'] as const) {
      expect((await authorize('U_GROUPED', operation, CONFIG, lookup)).allowed, operation).toBe(true);
      expect((await authorize('U_ADMIN', operation, CONFIG, lookup)).allowed, operation).toBe(true);
      expect((await authorize('U_VIEW', operation, CONFIG, lookup)).allowed, operation).toBe(false);
    }
  });
});
