import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { createAuditPool, migrateOps, migrateReadModels } from '@tameflare/audit';
import { createPostgresEventStore } from '@tameflare/event-store';
import { StackError, StackErrorCode } from './errors.ts';
import { redactUrl } from './stack-file.ts';

/** `TF_DATABASE_URL`, else the local trust-auth server's `tameflare` database. */
export function defaultDatabaseUrl(env: Record<string, string | undefined> = process.env): string {
  return env.TF_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/tameflare';
}

function databaseName(url: string): { name: string; admin: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch (cause) {
    throw new StackError(StackErrorCode.Database, 'TF_DATABASE_URL is not a URL', { cause, hint: 'use postgres://user@host:5432/dbname' });
  }
  const name = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
    throw new StackError(StackErrorCode.Database, `database name ${JSON.stringify(name)} must be a lowercase SQL identifier`, { hint: 'use postgres://user@host:5432/tameflare' });
  }
  u.pathname = '/postgres';
  return { name, admin: u.toString() };
}

function unreachable(url: string, cause: unknown): StackError {
  return new StackError(StackErrorCode.Database, `cannot reach PostgreSQL at ${redactUrl(url)}: ${(cause as Error).message}`, {
    cause,
    hint: 'start PostgreSQL (sudo service postgresql start) or set TF_DATABASE_URL',
  });
}

/** Creates the database unless it exists. Returns true when it was created. */
export async function ensureDatabase(url: string): Promise<boolean> {
  const { name, admin } = databaseName(url);
  const client = new pg.Client({ connectionString: admin, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (cause) {
    throw unreachable(url, cause);
  }
  try {
    const r = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (r.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE "${name}"`);
    } catch (err) {
      // Another `tf up` created it meanwhile.
      if ((err as { code?: string }).code === '42P04') return false;
      throw err;
    }
    return true;
  } catch (cause) {
    if (cause instanceof StackError) throw cause;
    throw new StackError(StackErrorCode.Database, `cannot create database ${name}: ${(cause as Error).message}`, { cause, hint: 'check that the TF_DATABASE_URL user may create databases' });
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Runs the migrations every service shares before any of them starts: the event store schema
 * and the audit read models and chain tables. (The vault migrates its own tables at start.)
 */
export async function migrateDatabase(url: string): Promise<void> {
  const store = createPostgresEventStore({ connectionString: url, applicationName: 'tameflare-stack' });
  const pool = createAuditPool({ connectionString: url, applicationName: 'tameflare-stack', max: 2 });
  try {
    await store.migrate();
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
    await migrateReadModels(db);
    await migrateOps(db);
  } catch (cause) {
    throw new StackError(StackErrorCode.Database, `migrating ${redactUrl(url)} failed: ${(cause as Error).message}`, { cause, hint: 'see the PostgreSQL log' });
  } finally {
    await store.close().catch(() => undefined);
    await pool.end().catch(() => undefined);
  }
}

/** Drops a database (test harness clean-up), ending any session left on it. */
export async function dropDatabase(url: string): Promise<void> {
  const { name, admin } = databaseName(url);
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
