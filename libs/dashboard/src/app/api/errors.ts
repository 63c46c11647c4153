/**
 * What went wrong talking to the API, in the terms a person at the dashboard acts on. Every view
 * turns one of these into a message; none of them is retried behind the user's back except
 * `unreachable` (the API may come back) on live feeds.
 */
export type ApiErrorKind =
  /** The token was refused: wrong, revoked or expired. The session ends. */
  | 'unauthenticated'
  /** The token is valid but its role may not do this. */
  | 'forbidden'
  /** No answer: network down, API process stopped, proxy gone. */
  | 'unreachable'
  /** The API answered with a GraphQL error that has a code (`TF_ERR_*`). */
  | 'rejected'
  /** The API answered with something that is not GraphQL (a 5xx page, bad JSON). */
  | 'server';

export interface ApiError {
  kind: ApiErrorKind;
  /** `TF_ERR_*` or a GraphQL code such as `UNAUTHENTICATED`, when the API gave one. */
  code: string | null;
  message: string;
  /** Extra fields the API attached to the error (e.g. who decided an approval). */
  details: Record<string, unknown> | null;
}

export interface GraphQLErrorShape {
  message?: unknown;
  extensions?: { code?: unknown; tfCode?: unknown; http?: { status?: unknown }; details?: unknown; [k: string]: unknown };
}

// The audit API's codes (services/audit-api: auth/authenticate.ts, graphql/errors.ts): a GraphQL
// `code` plus, for TameFlare errors, the stable `tfCode`.
const UNAUTHENTICATED_CODES = new Set(['UNAUTHENTICATED', 'TF_ERR_AUTH_MISSING', 'TF_ERR_AUTH_INVALID']);
const UNAVAILABLE_CODES = new Set(['SERVICE_UNAVAILABLE', 'TF_ERR_AUTH_UNAVAILABLE']);
const FORBIDDEN_CODES = new Set(['FORBIDDEN', 'TF_ERR_APPROVAL_FORBIDDEN']);

export function apiError(kind: ApiErrorKind, message: string, code: string | null = null, details: Record<string, unknown> | null = null): ApiError {
  return { kind, code, message, details };
}

export function isApiError(e: unknown): e is ApiError {
  return typeof e === 'object' && e !== null && 'kind' in e && 'message' in e && typeof (e as ApiError).message === 'string';
}

/** Classifies the first GraphQL error of an answer (and the HTTP status it came with). */
export function classifyGraphQLError(status: number, errors: readonly GraphQLErrorShape[]): ApiError {
  const first = errors[0] ?? {};
  const ext = first.extensions ?? {};
  const gqlCode = typeof ext.code === 'string' ? ext.code : null;
  const code = typeof ext.tfCode === 'string' ? ext.tfCode : gqlCode;
  const message = typeof first.message === 'string' && first.message ? first.message : `the API answered ${status}`;
  const details = isRecord(ext.details) ? ext.details : omit(ext, ['code', 'tfCode', 'http']);
  const codes = [gqlCode, code].filter((c): c is string => c !== null);
  // "Cannot check the token right now" must not end a session: unavailability wins.
  const kind: ApiErrorKind = codes.some((c) => UNAVAILABLE_CODES.has(c))
    ? 'unreachable'
    : status === 401 || codes.some((c) => UNAUTHENTICATED_CODES.has(c))
      ? 'unauthenticated'
      : status === 403 || codes.some((c) => FORBIDDEN_CODES.has(c))
          ? 'forbidden'
          : 'rejected';
  return apiError(kind, message, code, details && Object.keys(details).length > 0 ? details : null);
}

/** Classifies an HTTP answer that carried no GraphQL errors we could read. */
export function classifyHttpStatus(status: number, bodyText: string): ApiError {
  if (status === 401) return apiError('unauthenticated', 'the API refused the token', 'UNAUTHENTICATED');
  if (status === 403) return apiError('forbidden', 'this token may not do that', 'FORBIDDEN');
  if (status === 502 || status === 503 || status === 504) return apiError('unreachable', `the API is not answering (HTTP ${status})`);
  const snippet = bodyText.replace(/\s+/g, ' ').trim().slice(0, 120);
  return apiError('server', `the API answered HTTP ${status}${snippet ? `: ${snippet}` : ''}`);
}

/** The sentence a view shows for an error, with what the person can do about it. */
export function describeError(e: ApiError): string {
  switch (e.kind) {
    case 'unauthenticated':
      return 'Your session has ended: the API no longer accepts this token (it was wrong, revoked or has expired). Sign in again.';
    case 'forbidden':
      return `Your token's role may not do this (${e.message}).`;
    case 'unreachable':
      if (e.code) return `The API could not do this right now: ${e.message}. Try again in a moment.`;
      return `Cannot reach the TameFlare API: ${e.message}. Check that the audit API is running; the dashboard retries on its own.`;
    case 'rejected':
      return e.code ? `${e.message} (${e.code})` : e.message;
    case 'server':
      return `The API had a problem: ${e.message}.`;
  }
}

/** True for the refusal of a vote on an approval someone else already settled. */
export function isAlreadySettled(e: ApiError): boolean {
  return e.code === 'TF_ERR_APPROVAL_ALREADY_DECIDED' || e.code === 'TF_ERR_APPROVAL_EXPIRED' || e.code === 'TF_ERR_APPROVAL_ALREADY_CONSUMED';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function omit(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));
}
