import pg from 'pg';
import { isTameFlareError } from '@tameflare/contracts';
import { EventStoreError, EventStoreErrorCode, EventStoreUnavailableError } from '../errors.ts';

/** How the PostgreSQL adapter and the processor helpers connect. */
export interface PostgresConnectionOptions {
  /** `postgres://user:pass@host:port/db`. Never logged: errors name only host and port. */
  connectionString: string;
  /** Schema holding the store's tables, so tests and replays can isolate (default `tf_events`). */
  schema?: string;
  /** Pool size (default 10). */
  maxConnections?: number;
  /** Give up connecting after this long (default 5000 ms). */
  connectTimeoutMs?: number;
  /**
   * `idle_in_transaction_session_timeout` for our sessions (default 10000 ms). An open
   * transaction holds back the snapshot xmin that every subscriber reads below, so a forgotten
   * one must not stall the log for long.
   */
  idleInTransactionTimeoutMs?: number;
  /** `statement_timeout` for our sessions (default 30000 ms; 0 disables). */
  statementTimeoutMs?: number;
  /** `application_name` shown in pg_stat_activity (default `tameflare-event-store`). */
  applicationName?: string;
}

export const DEFAULT_SCHEMA = 'tf_events';
// Short enough that the notification channel `<schema>_appended` stays a valid identifier.
const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,47}$/;

/** @throws EventStoreError (`TF_ERR_STORE_INVALID_ARGUMENT`) for a schema name that is not a plain lowercase identifier. */
export function checkSchemaName(schema: string): string {
  if (!SCHEMA_RE.test(schema)) {
    throw new EventStoreError(EventStoreErrorCode.InvalidArgument, `invalid event store schema name ${JSON.stringify(schema)}: use [a-z_][a-z0-9_]*, at most 48 characters`);
  }
  return schema;
}

/** The client settings every session of ours uses. */
export function clientConfig(options: PostgresConnectionOptions): pg.ClientConfig {
  const idle = options.idleInTransactionTimeoutMs ?? 10_000;
  const stmt = options.statementTimeoutMs ?? 30_000;
  return {
    connectionString: options.connectionString,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    application_name: options.applicationName ?? 'tameflare-event-store',
    options: `-c idle_in_transaction_session_timeout=${idle} -c statement_timeout=${stmt}`,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  };
}

export function createPool(options: PostgresConnectionOptions, onIdleError: (err: Error) => void): pg.Pool {
  const pool = new pg.Pool({ ...clientConfig(options), max: options.maxConnections ?? 10, idleTimeoutMillis: 30_000 });
  // An idle client dropped by a restart emits here; without a listener the process would crash.
  pool.on('error', onIdleError);
  return pool;
}

/** `host:port` of a connection string, for error messages that must not leak a password. */
export function describeTarget(connectionString: string): string {
  try {
    const u = new URL(connectionString);
    return `${u.hostname || 'localhost'}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return 'the configured server';
  }
}

const UNAVAILABLE_SQLSTATE = /^(08|53|57P0[1-4]|58)/;
const UNAVAILABLE_NODE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);
const UNAVAILABLE_MESSAGE = /Connection terminated|timeout exceeded when trying to connect|connection timeout|Client has encountered a connection error|Connection terminated unexpectedly/i;

/** True when `err` means the server is unreachable, restarting or refusing sessions (not a bug in our SQL). */
export function isConnectionFailure(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; message?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && (UNAVAILABLE_NODE.has(e.code) || UNAVAILABLE_SQLSTATE.test(e.code))) return true;
  if (typeof e.message === 'string' && UNAVAILABLE_MESSAGE.test(e.message)) return true;
  // Node reports a refused dual-stack connect as an AggregateError of the per-address failures.
  if (Array.isArray(e.errors)) return e.errors.some(isConnectionFailure);
  return false;
}

/** Rethrows connection failures as {@link EventStoreUnavailableError}; anything else unchanged. */
export function mapPgError(err: unknown, target: string, operation: string): never {
  if (isTameFlareError(err)) throw err;
  if (isConnectionFailure(err)) {
    const reason = err instanceof Error && err.message ? err.message : (err as { code?: string }).code ?? 'connection failed';
    throw new EventStoreUnavailableError(`event store unavailable: ${operation} failed, PostgreSQL at ${target} cannot be reached (${reason})`, {
      cause: err,
      details: { target, operation },
    });
  }
  throw err;
}
