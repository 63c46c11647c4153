import type pg from 'pg';
import { checkSchemaName, createPool, DEFAULT_SCHEMA, describeTarget, mapPgError, type PostgresConnectionOptions } from '../postgres/connection.ts';
import { migrateWith } from '../postgres/migrate.ts';
import type { Queryable } from '../postgres/queryable.ts';
import { processorsMigrationSql, schemaNames, type SchemaNames } from '../postgres/schema.ts';
import type { Checkpoint } from '../types.ts';
import { loadCheckpoint, saveCheckpoint } from './checkpoints.ts';
import { acquireProcessorLock, type AcquireProcessorLockOptions, type ProcessorLock } from './processor-lock.ts';

/**
 * Checkpoints and single-active locks for processors (the projector, the recorder's relay).
 * They live in PostgreSQL next to the processor's own tables, whichever adapter holds the events,
 * so a projection and its checkpoint commit in one transaction.
 */
export interface ProcessorStore {
  readonly schema: string;
  /** Creates the `processors` table (the PostgreSQL event store's `migrate` does it too). */
  migrate(): Promise<void>;
  /** The stored checkpoint, read on `q` (the caller's transaction) or on the pool. */
  loadCheckpoint(processorId: string, q?: Queryable): Promise<Checkpoint | null>;
  /**
   * Compare-and-set from `expected` to `next` on `q`: pass the client of the transaction that
   * applied the events. @throws CheckpointConflictError when another instance moved it.
   */
  saveCheckpoint(q: Queryable, processorId: string, expected: Checkpoint | null, next: Checkpoint): Promise<void>;
  /** See {@link acquireProcessorLock}; connection settings default to this store's. */
  acquireLock(processorId: string, options?: Omit<AcquireProcessorLockOptions, 'processorId' | keyof PostgresConnectionOptions>): Promise<ProcessorLock | null>;
  close(): Promise<void>;
}

/** A processor store with its own pool (use this beside a KurrentDB event store). */
export function createProcessorStore(options: PostgresConnectionOptions & { onError?: (err: Error) => void }): ProcessorStore {
  const pool = createPool({ maxConnections: 4, ...options }, options.onError ?? (() => undefined));
  return processorStoreOn(pool, options, true);
}

/** A processor store sharing `pool` (the PostgreSQL event store uses this). */
export function processorStoreOn(pool: pg.Pool, options: PostgresConnectionOptions, ownsPool: boolean): ProcessorStore {
  const n: SchemaNames = schemaNames(checkSchemaName(options.schema ?? DEFAULT_SCHEMA));
  const target = describeTarget(options.connectionString);
  return {
    schema: n.schema,
    migrate: () => migrateWith(pool, n, processorsMigrationSql(n)).catch((err) => mapPgError(err, target, 'migrate')),
    loadCheckpoint: (processorId, q) => loadCheckpoint(q ?? pool, n, processorId).catch((err) => mapPgError(err, target, 'loadCheckpoint')),
    saveCheckpoint: (q, processorId, expected, next) =>
      saveCheckpoint(q, n, processorId, expected, next).catch((err) => mapPgError(err, target, 'saveCheckpoint')),
    acquireLock: (processorId, lockOptions) => acquireProcessorLock({ ...options, schema: n.schema, ...lockOptions, processorId }),
    close: async () => {
      if (ownsPool) await pool.end();
    },
  };
}
