import type { ApprovalStatusReply, ApprovalVoteRequest } from '@tameflare/contracts';
import { statusReply, type OpenedApproval } from '@tameflare/approvals';
import type { ApprovalRepository } from './repository.ts';
import type { Clock } from './types.ts';

export interface VoteDeps {
  repo: ApprovalRepository;
  clock: Clock;
  settled: (s: OpenedApproval) => Promise<void>;
}

/**
 * `tf.cmd.approval.vote`: records one person's approve or deny. A refused vote throws its
 * `TF_ERR_APPROVAL_*` error after recording what must be recorded (a vote without the role).
 */
export async function voteApproval(deps: VoteDeps, p: ApprovalVoteRequest, traceparent?: string): Promise<ApprovalStatusReply> {
  const h = await deps.repo.handle(
    p.approvalId,
    () => ({
      type: 'CastVote',
      data: { voter: p.voter, voterRole: p.voterRole, vote: p.vote, comment: p.comment ?? null, channel: p.channel },
      now: deps.clock(),
    }),
    { traceparent },
  );
  if (h.state.exists) await deps.settled(h.state);
  if (!h.decision.ok) throw h.decision.error;
  return statusReply(h.state as OpenedApproval);
}
