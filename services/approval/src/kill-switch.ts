import type { KillSwitchEntry } from '@tameflare/contracts';
import type { OpenedApproval } from '@tameflare/approvals';
import { killSwitchCovers, type ScopeTarget } from './kill-switch-scope.ts';
import type { ApprovalRepository } from './repository.ts';
import type { ApprovalSlot } from './slots.ts';
import type { Clock, Logger } from './types.ts';

export interface KillSwitchDeps {
  repo: ApprovalRepository;
  clock: Clock;
  log: Logger;
  settled: (s: OpenedApproval) => Promise<void>;
}

/** Denies one live approval because of a kill switch (cause `kill_switch`); a no-op if it already settled. */
export async function denyByKillSwitch(deps: KillSwitchDeps, approvalId: string, ks: KillSwitchEntry): Promise<boolean> {
  const h = await deps.repo.handle(
    approvalId,
    () => ({ type: 'DenyByKillSwitch', data: { killSwitchId: ks.killSwitchId, reason: ks.reason, engagedBy: ks.engagedBy }, now: deps.clock() }),
    { causationId: ks.killSwitchId },
  );
  if (h.state.exists) await deps.settled(h.state);
  if (h.decision.ok) deps.log.info({ approvalId, killSwitchId: ks.killSwitchId }, 'approval denied by the kill switch');
  return h.decision.ok;
}

/** Denies every live approval (from the slot index) that an engaged kill switch covers. */
export async function sweepKillSwitch(deps: KillSwitchDeps, ks: KillSwitchEntry, slots: Iterable<ApprovalSlot>): Promise<number> {
  let denied = 0;
  for (const slot of [...slots]) {
    if (!killSwitchCovers(ks.scope, slot)) continue;
    try {
      if (await denyByKillSwitch(deps, slot.approvalId, ks)) denied++;
    } catch (err) {
      deps.log.error({ err, approvalId: slot.approvalId, killSwitchId: ks.killSwitchId }, 'could not deny an approval for the kill switch');
      throw err;
    }
  }
  return denied;
}

/** The scope target of an opened approval. */
export function targetOf(s: OpenedApproval): ScopeTarget {
  return { gatewayId: s.request.gatewayId, agentId: s.request.agentId, connector: s.request.request.action.connector };
}
