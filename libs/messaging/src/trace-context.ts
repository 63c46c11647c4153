import { trace } from '@opentelemetry/api';
import { formatTraceparent } from './trace.ts';

/**
 * The W3C trace context of the active span, shaped for `createEvent(..., { traceparent,
 * tracestate })`, so a recorded event can be tied back to the trace that produced it.
 */
export function currentTraceContext(): { traceparent: string | null; tracestate: string | null } {
  const sc = trace.getActiveSpan()?.spanContext();
  if (!sc) return { traceparent: null, tracestate: null };
  return { traceparent: formatTraceparent(sc) ?? null, tracestate: sc.traceState?.serialize() || null };
}
