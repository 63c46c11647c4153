import type { EventData, Role } from '@tameflare/contracts';
import type { ApprovalError } from './errors.ts';
import type { ApprovalEvent } from './state.ts';

/** Open a new approval. `data.expiresAt` must lie after `now`. */
export interface RequestApproval {
  type: 'RequestApproval';
  data: EventData<'ApprovalRequested'>;
  now: Date;
}

/** One person's approve or deny, with the role their credential carries. */
export interface CastVote {
  type: 'CastVote';
  data: {
    voter: string;
    voterRole: Role;
    vote: 'approve' | 'deny';
    comment: string | null;
    channel: EventData<'ApprovalVoteRecorded'>['channel'];
  };
  now: Date;
}

/** Release a granted approval, once, for the exact request it was granted for. */
export interface ConsumeApproval {
  type: 'ConsumeApproval';
  data: { releasedActionId: string; runId: string; requestDigest: string; ingressId: string };
  now: Date;
}

/** Record that the deadline passed (timer-driven). */
export interface ExpireApproval {
  type: 'ExpireApproval';
  now: Date;
}

/** A kill switch whose scope covers this approval. */
export interface DenyByKillSwitch {
  type: 'DenyByKillSwitch';
  data: { killSwitchId: string; reason: string; engagedBy: string };
  now: Date;
}

/** Withdraw a pending approval (nobody is waiting for it any more). */
export interface CancelApproval {
  type: 'CancelApproval';
  data: { reason: string };
  now: Date;
}

export type ApprovalCommand = RequestApproval | CastVote | ConsumeApproval | ExpireApproval | DenyByKillSwitch | CancelApproval;

/**
 * What {@link decide} answers: the events to append, or a refusal. A refusal may still carry
 * events that must be recorded (a vote by someone without the role is recorded as
 * `ApprovalVoteRefused`; a command that arrives after the deadline records `ApprovalExpired`),
 * but never an event that grants, denies or releases.
 */
export type Decision = { ok: true; events: ApprovalEvent[] } | { ok: false; error: ApprovalError; events: ApprovalEvent[] };
