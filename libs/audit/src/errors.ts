import { TameFlareError } from '@tameflare/contracts';

/** Stable codes raised by the audit library. */
export const AuditErrorCode = {
  /** A pagination cursor that this API did not issue, or that belongs to another list. */
  InvalidCursor: 'TF_ERR_AUDIT_INVALID_CURSOR',
  /** A filter value that cannot be used (bad glob, inverted time range, page size out of bounds). */
  InvalidFilter: 'TF_ERR_AUDIT_INVALID_FILTER',
  /** A projection met an event it cannot apply; the projection stopped on it. */
  Projection: 'TF_ERR_AUDIT_PROJECTION',
  /** A read-model or chain migration failed. */
  Migration: 'TF_ERR_AUDIT_MIGRATION',
  /** The chain signing key is missing, unreadable or too widely readable. */
  SigningKey: 'TF_ERR_AUDIT_SIGNING_KEY',
  /** An export was asked for in a format or range that cannot be produced. */
  InvalidExport: 'TF_ERR_AUDIT_INVALID_EXPORT',
  /** The read models were swapped by a replay while this batch was being applied: reload and go on. */
  Superseded: 'TF_ERR_AUDIT_SUPERSEDED',
  /** A replay could not run (another replay holds the rebuild schema, a lock was lost...). */
  Replay: 'TF_ERR_AUDIT_REPLAY',
} as const;
export type AuditErrorCode = (typeof AuditErrorCode)[keyof typeof AuditErrorCode];

/** An error raised by the audit library; `code` is one of {@link AuditErrorCode}. */
export class AuditError extends TameFlareError {}

/** True for audit errors caused by the caller's input (safe to show them as they are). */
export function isAuditInputError(err: unknown): err is AuditError {
  return (
    err instanceof AuditError &&
    (err.code === AuditErrorCode.InvalidCursor || err.code === AuditErrorCode.InvalidFilter || err.code === AuditErrorCode.InvalidExport)
  );
}
