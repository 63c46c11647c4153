/** OpenTelemetry and pino, configured once for every TameFlare process. */
export { initTelemetry, type Telemetry, type TelemetryOptions } from './init-telemetry.ts';
export { createLogger, redact, REDACTED, REDACTED_KEYS, type Logger, type LoggerOptions } from './create-logger.ts';
