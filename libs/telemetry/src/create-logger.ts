import { trace } from '@opentelemetry/api';
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

/** Keys whose values never reach a log line, matched case-insensitively at any depth. */
export const REDACTED_KEYS = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'token', 'secret', 'password'] as const;
const EXACT = new Set<string>(REDACTED_KEYS);
/** `runToken`, `clientSecret`, `dbPassword`, `api_token`... */
const SUFFIX = /(token|secret|password|passwd|apikey|api_key)$/i;
export const REDACTED = '[redacted]';
const MAX_DEPTH = 8;

export interface LoggerOptions {
  /** The service name on every line (`service`). */
  service: string;
  /** The replica on every line (`instance`). */
  instanceId?: string;
  level?: LevelWithSilent;
  /** Defaults to stdout. */
  destination?: DestinationStream;
}

function isSensitive(key: string): boolean {
  const k = key.toLowerCase();
  return EXACT.has(k) || SUFFIX.test(k);
}

/** A copy of `value` with sensitive keys replaced; objects without any are returned as they are. */
export function redact(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  if (value instanceof Error) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    value.forEach((v, i) => {
      const r = redact(v, depth + 1);
      if (r !== v) (out ??= value.slice())[i] = r;
    });
    return out ?? value;
  }
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(value)) {
    const r = isSensitive(k) ? (v === undefined || v === null ? v : REDACTED) : redact(v, depth + 1);
    if (r !== v) (out ??= { ...(value as Record<string, unknown>) })[k] = r;
  }
  return out ?? value;
}

/**
 * A pino logger for a service: JSON lines with `service`, `instance`, and the `trace_id` and
 * `span_id` of the active span; credentials under any of {@link REDACTED_KEYS} (or ending in
 * token/secret/password) are replaced by `[redacted]` at any depth.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: options.service, ...(options.instanceId ? { instance: options.instanceId } : {}) },
      timestamp: pino.stdTimeFunctions.isoTime,
      messageKey: 'msg',
      serializers: { err: pino.stdSerializers.errWithCause, error: pino.stdSerializers.errWithCause },
      formatters: {
        level: (label) => ({ level: label }),
        log: (obj) => redact(obj) as Record<string, unknown>,
      },
      mixin() {
        const sc = trace.getActiveSpan()?.spanContext();
        return sc ? { trace_id: sc.traceId, span_id: sc.spanId } : {};
      },
    },
    // Synchronous stdout: a line logged just before an exit is never lost.
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

export type { Logger };
