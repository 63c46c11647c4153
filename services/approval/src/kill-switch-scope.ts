import type { KillSwitchScope } from '@tameflare/contracts';

/** What a kill switch is compared against: the approval's gateway, agent and connector. */
export interface ScopeTarget {
  gatewayId: string;
  agentId: string;
  connector: string;
}

/** True when a kill switch with this scope covers the target. */
export function killSwitchCovers(scope: KillSwitchScope, t: ScopeTarget): boolean {
  switch (scope.kind) {
    case 'all':
      return true;
    case 'gateway':
      return t.gatewayId === scope.value;
    case 'agent':
      return t.agentId === scope.value;
    case 'connector':
      return t.connector === scope.value;
  }
}
