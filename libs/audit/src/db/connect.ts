import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { DB as ReadModels } from './types/read-models.ts';
import type { DB as OpsTables } from './types/ops.ts';
import { assertSchemaName, OPS_SCHEMA, READ_MODEL_SCHEMA } from './schemas.ts';

export type { ReadModels, OpsTables };

const TIMESTAMPTZ_OID = 1184;

/**
 * PostgreSQL prints timestamptz as `2026-05-01 12:00:00.123456+00` in a UTC session; this turns
 * it into ISO 8601 (`2026-05-01T12:00:00.123456Z`) and keeps the microseconds, which a JS Date
 * would drop (and keyset cursors need).
 */
export function pgTimestampToIso(text: string): string {
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?)\+00$/.exec(text);
  if (!m) return new Date(text).toISOString();
  return `${m[1]}T${m[2]}Z`;
}

const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === TIMESTAMPTZ_OID) return pgTimestampToIso;
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as unknown as pg.CustomTypesConfig;

/** Options for {@link createAuditPool}. */
export interface AuditPoolOptions {
  connectionString: string;
  max?: number;
  /** Kills a statement that runs longer than this (default 30 s). */
  statementTimeoutMs?: number;
  applicationName?: string;
  /** An idle pooled connection failed (server restart, terminated session); the pool replaces it. */
  onError?: (err: Error) => void;
}

/**
 * A pg pool whose sessions run in UTC with timestamps parsed to ISO strings, and with an
 * idle-in-transaction timeout: the event store's snapshot barrier is cluster-wide, so a stuck
 * transaction here would stall every subscriber.
 */
export function createAuditPool(options: AuditPoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    types: typeParsers,
    application_name: options.applicationName ?? 'tameflare-audit',
    options: `-c TimeZone=UTC -c statement_timeout=${options.statementTimeoutMs ?? 30_000} -c idle_in_transaction_session_timeout=60000`,
  });
  // Without a listener an idle client dropped by the server would crash the process.
  pool.on('error', options.onError ?? (() => undefined));
  return pool;
}

/** A Kysely instance over the read models in `schema` (default `audit`). */
export function readModelDb(pool: pg.Pool, schema: string = READ_MODEL_SCHEMA): Kysely<ReadModels> {
  return new Kysely<ReadModels>({ dialect: new PostgresDialect({ pool }) }).withSchema(assertSchemaName(schema));
}

/** A Kysely instance over the chain and status tables. */
export function opsDb(pool: pg.Pool): Kysely<OpsTables> {
  return new Kysely<OpsTables>({ dialect: new PostgresDialect({ pool }) }).withSchema(OPS_SCHEMA);
}
