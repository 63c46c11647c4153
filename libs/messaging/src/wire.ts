import { headers, type Msg, type MsgHdrs } from '@nats-io/transport-node';
import { isTameFlareError } from '@tameflare/contracts';
import { MessagingErrorCode, RemoteError } from './errors.ts';

/**
 * The request/reply error convention, compatible with the NATS service framework:
 *
 * - a successful reply is the JSON of the result, with no error headers;
 * - an error reply carries `Nats-Service-Error-Code: <TF_ERR_* code>` and
 *   `Nats-Service-Error: <message>`, and its body is
 *   `{"error":{"code":"TF_ERR_...","message":"...","details":{...}}}`.
 *
 * Anything that is not a TameFlareError is answered as `TF_ERR_INTERNAL` with a fixed message,
 * so stack traces, SQL or upstream text never leave the responder.
 */
export const ErrorHeaders = {
  code: 'Nats-Service-Error-Code',
  message: 'Nats-Service-Error',
} as const;

export const INTERNAL_MESSAGE = 'internal error';

/** Header values may not contain CR or LF; messages are capped so one line stays one line. */
function headerSafe(s: string): string {
  const one = s.replace(/[\r\n]+/g, ' ');
  return one.length > 500 ? one.slice(0, 500) : one;
}

export interface EncodedError {
  headers: MsgHdrs;
  body: string;
}

/** Encodes a handler failure as an error reply. */
export function encodeErrorReply(err: unknown): EncodedError {
  const known = isTameFlareError(err);
  const code = known ? err.code : MessagingErrorCode.Internal;
  const message = known ? err.message : INTERNAL_MESSAGE;
  const details = known ? err.details : undefined;
  const h = headers();
  h.set(ErrorHeaders.code, code);
  h.set(ErrorHeaders.message, headerSafe(message) || code);
  return { headers: h, body: JSON.stringify({ error: { code, message, ...(details ? { details } : {}) } }) };
}

/** The RemoteError an error reply stands for, or undefined for a normal reply. */
export function decodeErrorReply(m: Msg, subject: string): RemoteError | undefined {
  const h = m.headers;
  if (!h || !h.has(ErrorHeaders.code)) return undefined;
  const code = h.get(ErrorHeaders.code);
  let message = h.get(ErrorHeaders.message);
  let details: Record<string, unknown> | undefined;
  try {
    const body = m.json<{ error?: { message?: string; details?: Record<string, unknown> } }>();
    if (typeof body?.error?.message === 'string') message = body.error.message;
    if (body?.error?.details && typeof body.error.details === 'object') details = body.error.details;
  } catch {
    // A foreign responder may put only the headers; they are enough.
  }
  return new RemoteError(code, message || code, subject, details);
}
