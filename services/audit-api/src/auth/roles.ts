import { GraphQLError } from '../graphql/graphql-runtime.ts';
import type { Role } from '@tameflare/contracts';

/** Who is calling: the API token's name and role. */
export interface Principal {
  name: string;
  role: Role;
  /** Null for the bootstrap admin token from configuration. */
  tokenId: string | null;
}

const rank: Record<Role, number> = { viewer: 1, approver: 2, admin: 3 };

/** True when `role` includes `needed` (admin ⊃ approver ⊃ viewer). */
export function hasRole(role: Role, needed: Role): boolean {
  return rank[role] >= rank[needed];
}

/**
 * The role every root field needs. Every root field of the schema must be listed (a unit test
 * checks it), so a new field cannot ship without a decision about who may use it.
 */
export const fieldRoles = {
  Query: {
    viewer: 'viewer',
    actions: 'viewer',
    action: 'viewer',
    approvals: 'viewer',
    pendingApprovals: 'viewer',
    approval: 'viewer',
    runs: 'viewer',
    run: 'viewer',
    agents: 'viewer',
    agent: 'viewer',
    gateways: 'viewer',
    connectors: 'viewer',
    policyVersions: 'viewer',
    policyVersion: 'viewer',
    killSwitchHistory: 'viewer',
    activeKillSwitches: 'viewer',
    credentialUses: 'viewer',
    decisionsOverTime: 'viewer',
    secrets: 'viewer',
    apiTokens: 'admin',
    policyBacktest: 'viewer',
    projectionStatus: 'viewer',
  },
  Mutation: {
    approve: 'approver',
    deny: 'approver',
    engageKillSwitch: 'admin',
    releaseKillSwitch: 'admin',
    issueApiToken: 'admin',
  },
  Subscription: {
    decisions: 'viewer',
    approvalEvents: 'viewer',
    killSwitchEvents: 'viewer',
  },
} as const satisfies Record<'Query' | 'Mutation' | 'Subscription', Record<string, Role>>;

/** @throws GraphQLError `FORBIDDEN` when the caller's role is below `needed`. */
export function requireRole(principal: Principal, needed: Role, field: string): void {
  if (!hasRole(principal.role, needed)) {
    throw new GraphQLError(`${field} needs the ${needed} role; the token "${principal.name}" has ${principal.role}`, {
      extensions: { code: 'FORBIDDEN', http: { status: 403 } },
    });
  }
}
