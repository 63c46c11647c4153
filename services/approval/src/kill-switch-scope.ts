import type { KillSwitchScope } from '@tameflare/contracts';
import type { OpenedApproval } from '@tameflare/approvals';

/** True when a kill switch with this scope covers the approval's gateway, agent or connector. */
export function killSwitchCovers(scope: KillSwitchScope, s: OpenedApproval): boolean {
  switch (scope.kind) {
    case 'all':
      return true;
    case 'gateway':
      return s.request.gatewayId === scope.value;
    case 'agent':
      return s.request.agentId === scope.value;
    case 'connector':
      return s.request.request.action.connector === scope.value;
  }
}
