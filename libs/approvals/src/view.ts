import type { ApprovalStatusReply } from '@tameflare/contracts';
import type { OpenedApproval } from './state.ts';

/** The `tf.cmd.approval.status` answer for an approval. */
export function statusReply(s: OpenedApproval): ApprovalStatusReply {
  return {
    approvalId: s.request.approvalId,
    status: s.status,
    expiresAt: s.request.expiresAt,
    quorum: s.request.quorum,
    approvals: [...s.approvers],
    deniedBy: s.deniedBy,
    reason: s.reason,
  };
}
