import type { ApprovalEvent, ApprovalState, OpenedApproval } from './state.ts';
import { voterKey } from './state.ts';

/**
 * Folds one event into the state. Events are facts: they are applied as recorded, never
 * re-checked here (checking is {@link decide}'s job), so replaying a stream always rebuilds the
 * same state.
 */
export function evolve(state: ApprovalState, event: ApprovalEvent): ApprovalState {
  if (event.type === 'ApprovalRequested') {
    return {
      exists: true,
      status: 'pending',
      request: event.data,
      requestedAt: event.time,
      votes: [],
      approvers: [],
      refusals: 0,
      grantedAt: null,
      deniedBy: null,
      denyCause: null,
      reason: null,
      decidedAt: null,
      consumed: null,
      version: state.version + 1,
    };
  }
  if (!state.exists) return { ...state };
  const s: OpenedApproval = { ...state, version: state.version + 1 };
  switch (event.type) {
    case 'ApprovalVoteRecorded': {
      const d = event.data;
      const votes = [...s.votes, { voter: d.voter, voterRole: d.voterRole, vote: d.vote, channel: d.channel, at: event.time }];
      const approvers =
        d.vote === 'approve' && !s.approvers.some((a) => voterKey(a) === voterKey(d.voter)) ? [...s.approvers, d.voter] : s.approvers;
      return { ...s, votes, approvers };
    }
    case 'ApprovalVoteRefused':
      return { ...s, refusals: s.refusals + 1 };
    case 'ApprovalGranted':
      return { ...s, status: 'granted', grantedAt: event.time, decidedAt: event.time, approvers: event.data.approvers };
    case 'ApprovalDenied':
      return { ...s, status: 'denied', deniedBy: event.data.deniedBy, denyCause: event.data.cause, reason: event.data.reason, decidedAt: event.time };
    case 'ApprovalExpired':
      return { ...s, status: 'expired', decidedAt: s.decidedAt ?? event.time };
    case 'ApprovalCancelled':
      return { ...s, status: 'cancelled', reason: event.data.reason, decidedAt: event.time };
    case 'ApprovalConsumed':
      return {
        ...s,
        status: 'consumed',
        consumed: { releasedActionId: event.data.releasedActionId, ingressId: event.data.ingressId, at: event.time },
      };
  }
}

/** Folds a whole stream, oldest first. */
export function fold(events: Iterable<ApprovalEvent>, from: ApprovalState = { exists: false, version: 0 }): ApprovalState {
  let s = from;
  for (const e of events) s = evolve(s, e);
  return s;
}
