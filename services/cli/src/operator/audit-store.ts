import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { OpsTables, TrustedKey } from '@tameflare/audit';
import type { PostgresEventStore } from '@tameflare/event-store';
import { CliError, ExitCode } from '../errors.ts';

/** The event store and audit tables `tf audit export|verify|replay` work on directly. */
export interface AuditStore {
  readonly store: PostgresEventStore;
  readonly pool: pg.Pool;
  readonly ops: Kysely<OpsTables>;
  /** The database, without any password, for messages. */
  readonly database: string;
  /** The chain signing key's public half from the stack's projector directory, when present. */
  readonly stackKey: TrustedKey | null;
  close(): Promise<void>;
}

/**
 * The database: `TF_DATABASE_URL`, else the running (or last) stack's database from its stack
 * file, else the local default `tf up` uses. The stack file keeps the URL without its password,
 * so a password-protected database must come from `TF_DATABASE_URL`.
 */
export async function auditDatabaseUrl(env: Record<string, string | undefined>, stateDir: string | undefined): Promise<string> {
  if (env.TF_DATABASE_URL) return env.TF_DATABASE_URL;
  const { defaultDatabaseUrl, readStackFile, resolveStateDir, statePaths } = await import('@tameflare/stack');
  const info = readStackFile(statePaths(resolveStateDir(stateDir, env)));
  if (info && !info.database.includes('***')) return info.database;
  if (info) {
    throw new CliError('TF_ERR_CLI_NO_DATABASE', `the stack's database ${info.database} needs a password the stack file does not keep`, { hint: 'set TF_DATABASE_URL' });
  }
  return defaultDatabaseUrl(env);
}

/**
 * Opens the event store and the audit tables, checking they exist: a database TameFlare never
 * migrated is a user error (exit 1), an unreachable server a system fault (exit 2). Nothing is
 * created or migrated here.
 */
export async function openAuditStore(env: Record<string, string | undefined>, stateDir: string | undefined, options: { poolSize?: number; statementTimeoutMs?: number } = {}): Promise<AuditStore> {
  const url = await auditDatabaseUrl(env, stateDir);
  const { createAuditPool, opsDb } = await import('@tameflare/audit');
  const { createPostgresEventStore } = await import('@tameflare/event-store');
  const { redactUrl } = await import('@tameflare/stack');
  const schema = env.TF_EVENT_STORE_SCHEMA || 'tf_events';
  const database = redactUrl(url);
  const store = createPostgresEventStore({ connectionString: url, schema, applicationName: 'tf-cli' });
  const pool = createAuditPool({ connectionString: url, applicationName: 'tf-cli', max: options.poolSize ?? 4, ...(options.statementTimeoutMs ? { statementTimeoutMs: options.statementTimeoutMs } : {}) });
  const close = async () => {
    await store.close().catch(() => undefined);
    await pool.end().catch(() => undefined);
  };
  try {
    const { rows } = await pool.query<{ events: string | null; chain: string | null }>(
      `SELECT to_regclass($1)::text AS events, to_regclass('audit_ops.chain')::text AS chain`,
      [`${schema}.events`],
    );
    if (!rows[0]?.events || !rows[0]?.chain) {
      throw new CliError('TF_ERR_CLI_NO_AUDIT_DATA', `${database} holds no TameFlare ${rows[0]?.events ? 'audit tables' : 'event store'} (schema ${rows[0]?.events ? 'audit_ops' : schema})`, {
        hint: 'point TF_DATABASE_URL at the database of your stack, or run tf up once to create it',
      });
    }
  } catch (err) {
    await close();
    if (err instanceof CliError) throw err;
    throw new CliError('TF_ERR_CLI_DATABASE_UNREACHABLE', `cannot reach PostgreSQL at ${database}: ${(err as Error).message}`, {
      exitCode: ExitCode.System,
      cause: err,
      hint: 'start PostgreSQL, or set TF_DATABASE_URL to the stack database',
    });
  }
  return { store, pool, ops: opsDb(pool), database, stackKey: await stackChainKey(env, stateDir), close };
}

/** The public key of the stack's chain signing key (the projector writes it), or null when there is none. */
export async function stackChainKey(env: Record<string, string | undefined>, stateDir: string | undefined): Promise<TrustedKey | null> {
  const { loadTrustedKey, PUBLIC_KEY_FILE } = await import('@tameflare/audit');
  const { resolveStateDir, statePaths } = await import('@tameflare/stack');
  const keyDir = statePaths(resolveStateDir(stateDir, env)).projectorDir;
  return existsSync(join(keyDir, PUBLIC_KEY_FILE)) ? loadTrustedKey(keyDir) : null;
}
