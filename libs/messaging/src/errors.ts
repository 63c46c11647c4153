import { TameFlareError, isTameFlareError } from '@tameflare/contracts';
import { errors as natsErrors, RequestError, TimeoutError } from '@nats-io/transport-node';
import { JetStreamApiError, JetStreamError } from '@nats-io/jetstream';

/** Stable codes of every error this library raises. */
export const MessagingErrorCode = {
  /** No reply (or no JetStream ack) within the time allowed. */
  Timeout: 'TF_ERR_NATS_TIMEOUT',
  /** Nobody listens on the subject: the service is down or not deployed. */
  NoResponders: 'TF_ERR_NATS_NO_RESPONDERS',
  /** The connection to NATS is down (connecting, reconnecting, draining): fail closed. */
  Unavailable: 'TF_ERR_NATS_UNAVAILABLE',
  /** The connection was closed for good. */
  Closed: 'TF_ERR_NATS_CLOSED',
  /** The NATS server refused a publish or subscription (`-ERR 'Permissions Violation ...'`). */
  PermissionDenied: 'TF_ERR_NATS_PERMISSION_DENIED',
  /** A JetStream publish was not acknowledged: the event is NOT durable. */
  NotAcked: 'TF_ERR_JETSTREAM_NOT_ACKED',
  /** A JetStream management call (stream, consumer, bucket) failed. */
  JetStream: 'TF_ERR_JETSTREAM',
  /** A compare-and-set KV write lost: the key changed (or exists, for create). */
  KvConflict: 'TF_ERR_KV_CONFLICT',
  /** A payload could not be serialized or parsed as JSON. */
  BadPayload: 'TF_ERR_NATS_BAD_PAYLOAD',
  /** A responder failed with something other than a TameFlareError; details stay on its side. */
  Internal: 'TF_ERR_INTERNAL',
} as const;
export type MessagingErrorCodeValue = (typeof MessagingErrorCode)[keyof typeof MessagingErrorCode];

/** Any failure of the messaging layer itself. `details.subject` names where it happened. */
export class MessagingError extends TameFlareError {}

const REMOTE_ERROR = Symbol.for('tameflare.remote-error');

/**
 * An error a responder replied with. `code` and `message` are the responder's own (a
 * `TF_ERR_VAULT_*` code stays that code), so callers match on the code as if the call were
 * local: `isTameFlareError(err, 'TF_ERR_VAULT_SECRET_NOT_FOUND')`.
 */
export class RemoteError extends TameFlareError {
  /** The subject the request went to. */
  readonly subject: string;
  constructor(code: string, message: string, subject: string, details?: Record<string, unknown>) {
    super(code, message, details ? { details } : undefined);
    this.subject = subject;
    Object.defineProperty(this, REMOTE_ERROR, { value: true, enumerable: false });
  }
}

/** True for an error a remote responder replied with, from any copy of this library. */
export function isRemoteError(err: unknown, code?: string): err is RemoteError {
  return isTameFlareError(err, code) && REMOTE_ERROR in err;
}

/** True for an error this library raised with one of {@link MessagingErrorCode}. */
export function isMessagingError(err: unknown, code?: MessagingErrorCodeValue): err is MessagingError {
  return isTameFlareError(err, code) && !(REMOTE_ERROR in err) && Object.values(MessagingErrorCode).includes(err.code as MessagingErrorCodeValue);
}

function messagingError(code: MessagingErrorCodeValue, message: string, cause: unknown, details: Record<string, unknown>): MessagingError {
  return new MessagingError(code, message, { cause, details });
}

/**
 * Maps whatever nats.js threw into a {@link MessagingError} with a stable code. Matching is by
 * error `name` as well as `instanceof`, because a second copy of nats-core in node_modules
 * would defeat `instanceof`.
 */
export function toMessagingError(err: unknown, operation: string, subject: string): TameFlareError {
  if (isTameFlareError(err)) return err;
  const details = { operation, subject };
  const e = err as Error & { cause?: unknown };
  const inner = err instanceof RequestError || e?.name === 'RequestError' ? (e.cause ?? err) : err;
  const name = (inner as Error)?.name ?? '';
  if (inner instanceof TimeoutError || name === 'TimeoutError') {
    return messagingError(MessagingErrorCode.Timeout, `${operation} ${subject}: no answer in time`, err, details);
  }
  if (inner instanceof natsErrors.NoRespondersError || name === 'NoRespondersError') {
    return messagingError(MessagingErrorCode.NoResponders, `${operation} ${subject}: no responders`, err, details);
  }
  if (inner instanceof natsErrors.PermissionViolationError || name === 'PermissionViolationError') {
    const pv = inner as { operation?: string };
    return messagingError(MessagingErrorCode.PermissionDenied, `${operation} ${subject}: permission denied by the NATS server (${pv.operation ?? 'publish'})`, err, details);
  }
  if (inner instanceof natsErrors.ClosedConnectionError || name === 'ClosedConnectionError') {
    return messagingError(MessagingErrorCode.Closed, `${operation} ${subject}: the NATS connection is closed`, err, details);
  }
  if (inner instanceof natsErrors.DrainingConnectionError || name === 'DrainingConnectionError' || name === 'ConnectionError') {
    return messagingError(MessagingErrorCode.Unavailable, `${operation} ${subject}: NATS is unavailable (${(inner as Error).message})`, err, details);
  }
  if (err instanceof JetStreamApiError || err instanceof JetStreamError || /^JetStream/.test(e?.name ?? '')) {
    return messagingError(MessagingErrorCode.JetStream, `${operation} ${subject}: ${e.message}`, err, details);
  }
  return messagingError(MessagingErrorCode.Internal, `${operation} ${subject}: ${e?.message ?? String(err)}`, err, details);
}

/** The error thrown when the bus is not connected right now: callers fail closed at once. */
export function unavailable(operation: string, subject: string, state: string): MessagingError {
  return messagingError(MessagingErrorCode.Unavailable, `${operation} ${subject}: NATS is ${state}`, undefined, { operation, subject, state });
}
