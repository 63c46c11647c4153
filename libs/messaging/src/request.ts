import { headers, type Msg } from '@nats-io/transport-node';
import { MessagingError, MessagingErrorCode, toMessagingError } from './errors.ts';
import { context, failSpan, injectTrace, messagingAttributes, SpanKind, tracer } from './trace.ts';
import type { BusCore, CommandRef, RequestOptions } from './types.ts';
import { decodeErrorReply } from './wire.ts';

/**
 * Sends a JSON request and resolves with the JSON reply.
 *
 * @throws MessagingError `TF_ERR_NATS_UNAVAILABLE` at once when NATS is down,
 * `TF_ERR_NATS_TIMEOUT`, `TF_ERR_NATS_NO_RESPONDERS`, `TF_ERR_NATS_PERMISSION_DENIED`,
 * `TF_ERR_NATS_CLOSED`, `TF_ERR_NATS_BAD_PAYLOAD`; or the responder's own error as a
 * RemoteError with the responder's code.
 */
export async function request<T>(core: BusCore, target: string | CommandRef, payload: unknown, options?: RequestOptions): Promise<T> {
  const subject = typeof target === 'string' ? target : target.subject;
  core.ensureConnected('request', subject);
  const data = encode(payload, subject);
  const span = tracer.startSpan(`send ${subject}`, { kind: SpanKind.CLIENT }, context.active());
  messagingAttributes(span, 'send', subject, { 'messaging.message.body.size': data.length });
  const h = headers();
  injectTrace(span, h);
  let reply: Msg;
  try {
    if (options?.headers) {
      try {
        for (const k in options.headers) h.set(k, options.headers[k]!);
      } catch (cause) {
        throw badPayload(`invalid header for ${subject}`, subject, cause);
      }
    }
    reply = await core.mux.request(subject, data, h, options?.timeoutMs ?? core.options.requestTimeoutMs);
  } catch (err) {
    const e = toMessagingError(err, 'request', subject);
    failSpan(span, e);
    span.end();
    throw e;
  }
  try {
    const remote = decodeErrorReply(reply, subject);
    if (remote) throw remote;
    return (reply.data.length === 0 ? undefined : reply.json()) as T;
  } catch (err) {
    const e = err instanceof SyntaxError ? badPayload(`reply from ${subject} is not JSON`, subject, err) : err;
    failSpan(span, e);
    throw e;
  } finally {
    span.end();
  }
}

/** JSON text of a payload (`undefined` is an empty message). */
export function encode(payload: unknown, subject: string): string {
  if (payload === undefined) return '';
  try {
    return JSON.stringify(payload);
  } catch (cause) {
    throw badPayload(`payload for ${subject} cannot be serialized as JSON`, subject, cause);
  }
}

function badPayload(message: string, subject: string, cause: unknown): MessagingError {
  return new MessagingError(MessagingErrorCode.BadPayload, message, { cause, details: { subject } });
}
