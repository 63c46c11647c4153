import { ContractError, ContractErrorCode } from '@tameflare/contracts';
import type { Msg, Subscription } from '@nats-io/transport-node';
import { toMessagingError } from './errors.ts';
import { encode } from './request.ts';
import { context, extractTrace, failSpan, formatTraceparent, messagingAttributes, SpanKind, trace, tracer } from './trace.ts';
import type { BusCore, Listener, MessageContext, ServeHandler, ServeOptions } from './types.ts';
import { encodeErrorReply } from './wire.ts';

/**
 * Answers requests on `subject` in queue group `queue`. The handler's result is the JSON reply;
 * a thrown TameFlareError becomes an error reply with its code (see wire.ts); anything else is
 * logged here and answered `TF_ERR_INTERNAL`.
 */
export function serve(core: BusCore, options: ServeOptions, handler: ServeHandler): Promise<Listener> {
  return listen(core, options.subject, options.queue, SpanKind.SERVER, handler, options.decode);
}

/** Subscribes to `subject` (core NATS, optionally in a queue group) with trace extraction. */
export function subscribe(
  core: BusCore,
  subject: string,
  handler: ServeHandler,
  options?: { queue?: string; decode?: (p: unknown) => unknown },
): Promise<Listener> {
  return listen(core, subject, options?.queue, SpanKind.CONSUMER, handler, options?.decode);
}

/**
 * Subscribes, then round-trips to the server so a refused subscription (permissions) fails
 * here, at startup, instead of leaving a service that silently never answers.
 */
async function listen(
  core: BusCore,
  subject: string,
  queue: string | undefined,
  kind: SpanKind,
  handler: ServeHandler,
  decode: ((p: unknown) => unknown) | undefined,
): Promise<Listener> {
  core.ensureConnected(kind === SpanKind.SERVER ? 'serve' : 'subscribe', subject);
  let sub: Subscription;
  const onMessage = (err: Error | null, msg: Msg) => {
    if (err) {
      core.log?.error({ err: toMessagingError(err, 'subscribe', subject), subject, queue }, 'subscription failed');
      return;
    }
    void handle(msg);
  };
  const handle = async (msg: Msg) => {
    const done = core.begin();
    const parent = extractTrace(msg.headers);
    const span = tracer.startSpan(`process ${subject}`, { kind }, parent);
    messagingAttributes(span, 'process', msg.subject, queue ? { 'messaging.consumer.group.name': queue } : undefined);
    const ctx: MessageContext = {
      subject: msg.subject,
      get headers() {
        return msg.headers;
      },
      get traceparent() {
        return formatTraceparent(span.spanContext());
      },
    };
    try {
      let payload: unknown;
      if (msg.data.length > 0) {
        try {
          payload = msg.json();
        } catch (cause) {
          throw new ContractError(ContractErrorCode.Malformed, `payload on ${subject} is not JSON`, { cause });
        }
      }
      if (decode) payload = decode(payload);
      const result = await context.with(trace.setSpan(parent, span), () => handler(payload, ctx));
      if (msg.reply) msg.respond(encode(result, subject));
    } catch (err) {
      failSpan(span, err);
      const reply = encodeErrorReply(err);
      if (reply.headers.get('Nats-Service-Error-Code') === 'TF_ERR_INTERNAL') {
        core.log?.error({ err, subject, queue }, 'handler failed');
      }
      if (msg.reply) {
        try {
          msg.respond(reply.body, { headers: reply.headers });
        } catch (respondErr) {
          core.log?.warn({ err: respondErr, subject }, 'could not send the error reply');
        }
      }
    } finally {
      span.end();
      done();
    }
  };
  try {
    sub = core.nc.subscribe(subject, queue ? { queue, callback: onMessage } : { callback: onMessage });
  } catch (err) {
    throw toMessagingError(err, 'subscribe', subject);
  }
  let closeError: Error | undefined;
  const closed = sub.closed.then(
    (err) => {
      if (err) closeError = err;
    },
    () => undefined,
  );
  try {
    await core.nc.flush();
  } catch (err) {
    throw toMessagingError(err, 'subscribe', subject);
  }
  await Promise.resolve();
  if (sub.isClosed()) {
    await closed;
    throw toMessagingError(closeError ?? new Error('subscription closed'), 'subscribe', subject);
  }
  const listener: Listener = {
    subject,
    closed,
    stop: async () => {
      if (sub.isClosed()) return;
      try {
        await sub.drain();
      } catch {
        // Already closed with the connection: nothing left to drain.
      }
    },
  };
  const unregister = core.register(listener);
  void closed.then(unregister);
  return listener;
}
