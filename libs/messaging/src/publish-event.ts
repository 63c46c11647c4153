import { headers } from '@nats-io/transport-node';
import { Headers, isTameFlareError, subjectOf, type TameFlareEvent } from '@tameflare/contracts';
import { MessagingError, MessagingErrorCode, toMessagingError } from './errors.ts';
import { encode } from './request.ts';
import { context, failSpan, injectTrace, messagingAttributes, SpanKind, tracer } from './trace.ts';
import type { BusCore, PublishAck } from './types.ts';

/**
 * Publishes an event to JetStream on `subjectOf(event)` and waits for the stream's ack: from
 * then on the event is durable (file storage). `Nats-Msg-Id` is the event id, so a retry within
 * the stream's duplicate window is stored once and answered `duplicate: true`.
 *
 * @throws MessagingError `TF_ERR_JETSTREAM_NOT_ACKED` whenever the ack does not come (timeout,
 * no stream, NATS down, permission denied); `details.reason` holds the underlying code. The
 * caller must treat that as "not recorded" and fail closed.
 */
export async function publishEvent(core: BusCore, event: TameFlareEvent): Promise<PublishAck> {
  const subject = subjectOf(event);
  const span = tracer.startSpan(`publish ${event.type}`, { kind: SpanKind.PRODUCER }, context.active());
  try {
    core.ensureConnected('publishEvent', subject);
    const data = encode(event, subject);
    messagingAttributes(span, 'publish', subject, { 'messaging.message.id': event.id, 'messaging.message.body.size': data.length });
    const h = headers();
    h.set(Headers.eventType, event.type);
    h.set(Headers.eventVersion, String(event.version));
    h.set(Headers.correlationId, event.metadata.correlationId);
    const gatewayId = (event.data as { gatewayId?: unknown }).gatewayId;
    if (typeof gatewayId === 'string') h.set(Headers.gatewayId, gatewayId);
    injectTrace(span, h);
    const ack = await publishWithAck(core, subject, data, event.id, h);
    return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
  } catch (err) {
    const inner = isTameFlareError(err) ? err : toMessagingError(err, 'publishEvent', subject);
    const e = new MessagingError(MessagingErrorCode.NotAcked, `${event.type} ${event.id} was not acknowledged by JetStream: ${inner.message}`, {
      cause: inner,
      details: { subject, eventId: event.id, eventType: event.type, reason: inner.code },
    });
    failSpan(span, e);
    throw e;
  } finally {
    span.end();
  }
}

/** How many times an unreadable ack is retried before the publish counts as not acked. */
const UNREADABLE_ACK_RETRIES = 2;

/**
 * `js.publish`, retried when the server's answer arrives but is not a readable ack (seen under
 * load on nats-server 2.9 as an empty reply, which nats.js fails to parse as JSON). The retry
 * carries the same `Nats-Msg-Id`, so an event the first attempt did store is answered
 * `duplicate: true` rather than stored twice. Timeouts and refusals are not retried here.
 */
async function publishWithAck(core: BusCore, subject: string, data: string, msgID: string, h: ReturnType<typeof headers>) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await core.js.publish(subject, data, { msgID, headers: h, timeout: core.options.ackTimeoutMs });
    } catch (err) {
      const unreadable = err instanceof SyntaxError || (err instanceof Error && err.message === 'invalid ack response');
      if (!unreadable || attempt >= UNREADABLE_ACK_RETRIES) throw err;
      core.log?.warn({ err, subject, eventId: msgID, attempt: attempt + 1 }, 'unreadable JetStream ack; publishing again with the same message id');
    }
  }
}

/**
 * Publishes several events pipelined (every publish is on the wire before the first ack is
 * awaited) and returns their acks in order.
 *
 * @throws MessagingError `TF_ERR_JETSTREAM_NOT_ACKED` after every publish settled, when any
 * was not acked; `details.failed` lists their ids (the others are durable).
 */
export async function publishEvents(core: BusCore, events: readonly TameFlareEvent[]): Promise<PublishAck[]> {
  const settled = await Promise.allSettled(events.map((e) => publishEvent(core, e)));
  const failed: string[] = [];
  let first: unknown;
  const acks: PublishAck[] = [];
  settled.forEach((r, i) => {
    if (r.status === 'fulfilled') acks.push(r.value);
    else {
      failed.push(events[i]!.id);
      first ??= r.reason;
    }
  });
  if (failed.length === 0) return acks;
  throw new MessagingError(MessagingErrorCode.NotAcked, `${failed.length} of ${events.length} events were not acknowledged by JetStream`, {
    cause: first,
    details: { failed, acked: acks.length },
  });
}

/** Fire-and-forget core NATS publish of a JSON payload with trace headers (no durability). */
export function publish(core: BusCore, subject: string, payload: unknown, extraHeaders?: Record<string, string>): void {
  core.ensureConnected('publish', subject);
  const data = encode(payload, subject);
  const span = tracer.startSpan(`publish ${subject}`, { kind: SpanKind.PRODUCER }, context.active());
  messagingAttributes(span, 'publish', subject, { 'messaging.message.body.size': data.length });
  try {
    const h = headers();
    injectTrace(span, h);
    if (extraHeaders) for (const k in extraHeaders) h.set(k, extraHeaders[k]!);
    core.nc.publish(subject, data, { headers: h });
  } catch (err) {
    const e = toMessagingError(err, 'publish', subject);
    failSpan(span, e);
    throw e;
  } finally {
    span.end();
  }
}
