import type { ApprovalStatus, EventData, Role } from '@tameflare/contracts';

/** The approval event types, in lifecycle order. */
export const approvalEventTypes = [
  'ApprovalRequested',
  'ApprovalVoteRecorded',
  'ApprovalVoteRefused',
  'ApprovalGranted',
  'ApprovalDenied',
  'ApprovalExpired',
  'ApprovalCancelled',
  'ApprovalConsumed',
] as const;
export type ApprovalEventType = (typeof approvalEventTypes)[number];

/**
 * An approval event as the aggregate sees it: type, data and the time it happened. Event
 * envelopes from the event store fit this shape as they are.
 */
export type ApprovalEvent = { [T in ApprovalEventType]: { type: T; data: EventData<T>; time: string } }[ApprovalEventType];

/** True for the event types of this aggregate. */
export function isApprovalEvent(event: { type: string }): event is ApprovalEvent {
  return (approvalEventTypes as readonly string[]).includes(event.type);
}

/** One vote that counted. */
export interface RecordedVote {
  readonly voter: string;
  readonly voterRole: Role;
  readonly vote: 'approve' | 'deny';
  readonly channel: EventData<'ApprovalVoteRecorded'>['channel'];
  readonly at: string;
}

/** An approval that was requested, folded from its events. */
export interface OpenedApproval {
  readonly exists: true;
  readonly status: ApprovalStatus;
  /** The `ApprovalRequested` data: what was asked, of whom, bound to which request digest. */
  readonly request: EventData<'ApprovalRequested'>;
  readonly requestedAt: string;
  readonly votes: readonly RecordedVote[];
  /** Approving voters, in vote order (the `approvers` of the grant once granted). */
  readonly approvers: readonly string[];
  readonly refusals: number;
  readonly grantedAt: string | null;
  readonly deniedBy: string | null;
  readonly denyCause: 'vote' | 'kill_switch' | null;
  /** The reason of a denial or cancellation. */
  readonly reason: string | null;
  readonly decidedAt: string | null;
  readonly consumed: { readonly releasedActionId: string; readonly ingressId: string; readonly at: string } | null;
  /** Number of events folded: the stream version to append after (1-based count). */
  readonly version: number;
}

/** No event yet. */
export interface AbsentApproval {
  readonly exists: false;
  readonly version: 0;
}

export type ApprovalState = AbsentApproval | OpenedApproval;

/** The state of an approval before its first event. */
export const initialState: AbsentApproval = Object.freeze({ exists: false, version: 0 });

/** Voters are people: the same name in another case or with stray spaces is the same person. */
export function voterKey(voter: string): string {
  return voter.trim().toLowerCase();
}

/**
 * The moment a state stops being usable: the deadline of a pending approval, or the end of the
 * claim window of a granted one (granted time + the rule's timeout). Null once settled.
 */
export function deadlineOf(state: ApprovalState): number | null {
  if (!state.exists) return null;
  if (state.status === 'pending') return Date.parse(state.request.expiresAt);
  if (state.status === 'granted' && state.grantedAt) return Date.parse(state.grantedAt) + state.request.timeoutMs;
  return null;
}

/** True when a pending or granted approval has passed its deadline at `now` but was not expired yet. */
export function isExpiryDue(state: ApprovalState, now: Date): boolean {
  const d = deadlineOf(state);
  return d !== null && now.getTime() >= d;
}
