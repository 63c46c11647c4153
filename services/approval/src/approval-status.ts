import type { ApprovalStatusReply } from '@tameflare/contracts';
import { ApprovalErrorCode, approvalError, isExpiryDue, statusReply } from '@tameflare/approvals';
import type { ApprovalRepository } from './repository.ts';
import type { Clock } from './types.ts';

/**
 * `tf.cmd.approval.status`. A pending approval past its deadline reads as expired even before
 * the timer has recorded `ApprovalExpired`, so nobody acts on a stale pending.
 */
export async function approvalStatus(deps: { repo: ApprovalRepository; clock: Clock }, approvalId: string): Promise<ApprovalStatusReply> {
  const { state } = await deps.repo.load(approvalId);
  if (!state.exists) throw approvalError(ApprovalErrorCode.NotFound, `no approval ${approvalId}`, { details: { approvalId } });
  const reply = statusReply(state);
  return isExpiryDue(state, deps.clock()) ? { ...reply, status: 'expired' } : reply;
}
