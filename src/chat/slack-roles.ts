// Roles from `slack.roles` applied to a Slack user: `authorize()` of access-control.ts with the
// user-group lookup behind it. A group's members come from Slack's usergroups.users.list (scope
// usergroups:read), asked only for groups listed in the config and only when a group is listed at
// all, and kept for GROUP_CACHE_MS per group so a burst of clicks costs one call per group.

import type { App } from '@slack/bolt';
import { authorize, type ChatOperation, type Decision, type GroupLookup, type RoleConfig } from './access-control.ts';

export const GROUP_CACHE_MS = 5 * 60_000;

export type Authorizer = (userId: string, operation: ChatOperation) => Promise<Decision>;

export interface SlackRolesOptions {
  roles: Readonly<Record<string, RoleConfig['roles'][string]>>;
  defaultRole: RoleConfig['defaultRole'];
  client: App['client'];
  /** Passed with each call (Bolt's app.client carries no token of its own here). */
  token: string | undefined;
  now: () => Date;
}

export function createAuthorizer(options: SlackRolesOptions): Authorizer {
  const config: RoleConfig = { roles: options.roles, defaultRole: options.defaultRole };
  const listedGroups = Object.keys(options.roles).filter((id) => id.startsWith('S'));
  const cache = new Map<string, { members: Promise<ReadonlySet<string>>; until: number }>();

  const membersOf = (group: string): Promise<ReadonlySet<string>> => {
    const now = options.now().getTime();
    const cached = cache.get(group);
    if (cached !== undefined && cached.until > now) return cached.members;
    const members = options.client.usergroups.users
      .list({ usergroup: group, ...(options.token === undefined ? {} : { token: options.token }) })
      .then((answer) => new Set(answer.users ?? []) as ReadonlySet<string>);
    cache.set(group, { members, until: now + GROUP_CACHE_MS });
    // A failed lookup is not kept: the next click asks again.
    members.catch(() => cache.delete(group));
    return members;
  };

  const groupsOf: GroupLookup = async (userId) => {
    const memberships = await Promise.all(listedGroups.map(async (group) => ((await membersOf(group)).has(userId) ? group : undefined)));
    return memberships.filter((group): group is string => group !== undefined);
  };

  return (userId, operation) => authorize(userId, operation, config, groupsOf);
}
