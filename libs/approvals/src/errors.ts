import { TameFlareError } from '@tameflare/contracts';

/** Codes of every refusal the approval aggregate and service give. Callers match on these. */
export const ApprovalErrorCode = {
  /** No approval with this id exists. */
  NotFound: 'TF_ERR_APPROVAL_NOT_FOUND',
  /** An approval with this id was already requested. */
  AlreadyExists: 'TF_ERR_APPROVAL_ALREADY_EXISTS',
  /** The voter's role is not one the rule allows; the attempt is recorded (`ApprovalVoteRefused`). */
  Forbidden: 'TF_ERR_APPROVAL_FORBIDDEN',
  /** This person already voted on this approval. */
  DuplicateVote: 'TF_ERR_APPROVAL_DUPLICATE_VOTE',
  /** The approval was already granted, denied, cancelled or consumed. */
  AlreadyDecided: 'TF_ERR_APPROVAL_ALREADY_DECIDED',
  /** The approval timed out (pending past its deadline, or granted and never claimed in time). */
  Expired: 'TF_ERR_APPROVAL_EXPIRED',
  /** A claim on an approval that is not granted (pending, denied or cancelled). */
  NotGranted: 'TF_ERR_APPROVAL_NOT_GRANTED',
  /** The granted request was already released once. */
  AlreadyConsumed: 'TF_ERR_APPROVAL_ALREADY_CONSUMED',
  /** The request being claimed is not the one the approvers were shown. */
  DigestMismatch: 'TF_ERR_APPROVAL_DIGEST_MISMATCH',
  /** An expiry was asked for before the deadline. */
  NotDue: 'TF_ERR_APPROVAL_NOT_DUE',
  /** The command itself is malformed. */
  Invalid: 'TF_ERR_APPROVAL_INVALID',
  /** Another writer kept winning the race for this approval's stream. */
  Conflict: 'TF_ERR_APPROVAL_CONFLICT',
  /** A webhook callback whose signature or timestamp does not verify. */
  BadSignature: 'TF_ERR_APPROVAL_BAD_SIGNATURE',
  /** A dependency (event store, vault, NATS) did not answer. */
  Unavailable: 'TF_ERR_APPROVAL_UNAVAILABLE',
} as const;
export type ApprovalErrorCodeValue = (typeof ApprovalErrorCode)[keyof typeof ApprovalErrorCode];

/** A refused approval command. `details` names the approval and, where useful, its status. */
export class ApprovalError extends TameFlareError {}

/** Builds an {@link ApprovalError}. */
export function approvalError(
  code: ApprovalErrorCodeValue,
  message: string,
  options?: { cause?: unknown; details?: Record<string, unknown> },
): ApprovalError {
  return new ApprovalError(code, message, options);
}
