import {
  context,
  createTraceState,
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type SpanContext,
} from '@opentelemetry/api';
import type { MsgHdrs } from '@nats-io/transport-node';

/**
 * W3C trace context over NATS headers (`traceparent`, `tracestate`), done by hand: there is no
 * NATS instrumentation for nats.js. The format is written and parsed directly rather than
 * through the global propagator, so the wire contract holds whether or not a service has
 * configured OpenTelemetry, and the hot path skips the propagator's generic carrier walk.
 */
export const TRACEPARENT = 'traceparent';
export const TRACESTATE = 'tracestate';

export const tracer = trace.getTracer('@tameflare/messaging', '0.1.0');

const TRACEPARENT_RE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The `traceparent` value for a span context, or undefined when it is not valid. */
export function formatTraceparent(sc: SpanContext): string | undefined {
  if (!isSpanContextValid(sc)) return undefined;
  return `00-${sc.traceId}-${sc.spanId}-${sc.traceFlags & 1 ? '01' : '00'}`;
}

/** Writes the trace context of `span` into NATS headers. */
export function injectTrace(span: Span, h: MsgHdrs): void {
  const sc = span.spanContext();
  const tp = formatTraceparent(sc);
  if (!tp) return;
  h.set(TRACEPARENT, tp);
  const ts = sc.traceState?.serialize();
  if (ts) h.set(TRACESTATE, ts);
}

/** The remote parent context carried by NATS headers, or the root context when there is none. */
export function extractTrace(h: MsgHdrs | undefined): Context {
  if (!h) return ROOT_CONTEXT;
  const tp = h.get(TRACEPARENT);
  if (!tp) return ROOT_CONTEXT;
  const m = TRACEPARENT_RE.exec(tp);
  if (!m) return ROOT_CONTEXT;
  const ts = h.get(TRACESTATE);
  const sc: SpanContext = {
    traceId: m[1]!,
    spanId: m[2]!,
    traceFlags: parseInt(m[3]!, 16) & 1,
    isRemote: true,
    ...(ts ? { traceState: createTraceState(ts) } : {}),
  };
  if (!isSpanContextValid(sc)) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, sc);
}

/** Messaging semantic-convention attributes, set only on recording spans. */
export function messagingAttributes(
  span: Span,
  operation: 'publish' | 'send' | 'receive' | 'process',
  destination: string,
  extra?: Record<string, string | number | boolean>,
): void {
  if (!span.isRecording()) return;
  span.setAttribute('messaging.system', 'nats');
  span.setAttribute('messaging.operation.type', operation);
  span.setAttribute('messaging.destination.name', destination);
  if (extra) span.setAttributes(extra);
}

/** Marks a span failed with the error's code (never its details). */
export function failSpan(span: Span, err: unknown): void {
  if (!span.isRecording()) return;
  const e = err as { code?: string; message?: string };
  span.setStatus({ code: SpanStatusCode.ERROR, message: e?.code ?? e?.message ?? 'error' });
  if (e?.code) span.setAttribute('error.type', e.code);
}

export { context, SpanKind, trace, type Context, type Span };
