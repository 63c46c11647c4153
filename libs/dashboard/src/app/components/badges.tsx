import type { ApprovalStatus, Decision } from '../api/operations.ts';

const DECISION_TEXT: Record<Decision, string> = { ALLOW: 'Allowed', DENY: 'Denied', REQUIRE_APPROVAL: 'Needs approval' };

export function DecisionBadge({ decision }: { decision: Decision | null }) {
  if (!decision) return <span className="badge badge-pending">Deciding…</span>;
  return <span className={`badge badge-${decision.toLowerCase()}`}>{DECISION_TEXT[decision]}</span>;
}

export function decisionText(d: Decision): string {
  return DECISION_TEXT[d];
}

const STATUS_TEXT: Record<ApprovalStatus, string> = {
  PENDING: 'Pending',
  GRANTED: 'Approved',
  DENIED: 'Denied',
  EXPIRED: 'Expired',
  CANCELLED: 'Cancelled',
  CONSUMED: 'Approved and released',
};

export function ApprovalStatusBadge({ status }: { status: ApprovalStatus }) {
  return <span className={`badge badge-approval-${status.toLowerCase()}`}>{STATUS_TEXT[status]}</span>;
}

/** An outcome such as `upstream_error` in words. */
export function outcomeText(o: string | null | undefined): string {
  if (!o) return 'In progress';
  const s = o.toLowerCase().replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}
