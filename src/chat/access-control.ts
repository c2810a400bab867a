// Who may do what from Slack. Roles come from config (Slack user ids `U…`/`W…` and user-group ids
// `S…` → viewer, responder or admin); a person's role is the highest any of their ids grants, and
// people not listed get the configured default. Viewers read; responders also act on incidents
// (ack, resolve, silence, mark expected, approve) and run runbooks — destructive ones only with an
// explicit confirmation; admins may do everything, including lifting someone else's silence.
// Pure apart from the group lookup, which the caller supplies (Slack's usergroups.users.list,
// cached), so it is tested without Slack.

export const ROLES = ['viewer', 'responder', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export type ChatOperation =
  | 'read'
  | 'acknowledge'
  | 'resolve'
  | 'silence'
  | 'unsilence'
  | 'mark_expected'
  | 'approve'
  | 'run_runbook'
  | 'run_destructive_runbook';

const NEEDED: Record<ChatOperation, Role> = {
  read: 'viewer',
  acknowledge: 'responder',
  resolve: 'responder',
  silence: 'responder',
  unsilence: 'responder',
  mark_expected: 'responder',
  approve: 'responder',
  run_runbook: 'responder',
  run_destructive_runbook: 'responder',
};

export interface RoleConfig {
  /** Role by Slack user or user-group id. */
  roles: Readonly<Record<string, Role>>;
  /** The role of everyone not listed. */
  defaultRole: Role | 'none';
}

/** The user groups a Slack user belongs to (ids `S…`). */
export type GroupLookup = (userId: string) => Promise<readonly string[]>;

export interface Decision {
  allowed: boolean;
  role: Role | 'none';
  /** When refused: what the person is told (their role, what the operation needs, whom to ask). */
  reason?: string;
}

function rank(role: Role | 'none'): number {
  return role === 'none' ? -1 : ROLES.indexOf(role);
}

function highest(roles: readonly (Role | 'none')[]): Role | 'none' {
  return roles.reduce<Role | 'none'>((best, role) => (rank(role) > rank(best) ? role : best), 'none');
}

/** The person's role: the highest their own id or any of their groups grants, else the default. */
export async function roleOf(userId: string, config: RoleConfig, groupsOf: GroupLookup): Promise<Role | 'none'> {
  const direct = config.roles[userId];
  const listedGroups = Object.keys(config.roles).some((id) => id.startsWith('S'));
  const groups = listedGroups ? await groupsOf(userId) : [];
  const granted = [direct, ...groups.map((group) => config.roles[group])].filter((role): role is Role => role !== undefined);
  return granted.length > 0 ? highest(granted) : config.defaultRole;
}

export function decide(role: Role | 'none', operation: ChatOperation): Decision {
  const needed = NEEDED[operation];
  if (rank(role) >= rank(needed)) return { allowed: true, role };
  const yours = role === 'none' ? 'no pipewarden role' : `the ${role} role`;
  return {
    allowed: false,
    role,
    reason: `You have ${yours}; ${operation.replaceAll('_', ' ')} needs ${needed} or above. Ask an admin to add you or one of your user groups to \`slack.roles\`.`,
  };
}

/** The person's role and whether it allows the operation. */
export async function authorize(userId: string, operation: ChatOperation, config: RoleConfig, groupsOf: GroupLookup): Promise<Decision> {
  return decide(await roleOf(userId, config, groupsOf), operation);
}
