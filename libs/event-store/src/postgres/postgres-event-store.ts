import type pg from 'pg';
import type { TameFlareEvent } from '@tameflare/contracts';
import { processorStoreOn, type ProcessorStore } from '../processors/processor-store.ts';
import type { AppendIdempotentResult, AppendOptions, AppendResult, EventStore } from '../types.ts';
import { appendIdempotent } from './append-idempotent.ts';
import { appendToStream } from './append.ts';
import { checkSchemaName, createPool, DEFAULT_SCHEMA, describeTarget, mapPgError, type PostgresConnectionOptions } from './connection.ts';
import { inTransaction, migrateWith } from './migrate.ts';
import { createNotifier } from './notifier.ts';
import { readAll } from './read-all.ts';
import { readStream } from './read-stream.ts';
import { migrationSql, schemaNames } from './schema.ts';
import { pollingSubscription } from './subscribe.ts';

export interface PostgresEventStoreOptions extends PostgresConnectionOptions {
  /** Longest a caught-up subscription waits before reading again without a notification (default 1000 ms). */
  pollIntervalMs?: number;
  /** Background connection errors (an idle pooled client or the LISTEN session dropped). */
  onError?: (err: Error) => void;
}

/** Appends inside a transaction opened by {@link PostgresEventStore.transaction}. */
export interface PostgresTransaction {
  /** The transaction's client: run your own statements on it, they commit with the events. */
  readonly client: pg.PoolClient;
  append(stream: string, events: TameFlareEvent[], options: AppendOptions): Promise<AppendResult>;
  appendIdempotent(events: TameFlareEvent[]): Promise<AppendIdempotentResult>;
}

export interface PostgresEventStore extends EventStore {
  readonly kind: 'postgres';
  readonly schema: string;
  /** The store's pool, for callers that keep their own tables in the same database. */
  readonly pool: pg.Pool;
  /** Checkpoints and processor locks in this store's schema. */
  readonly processors: ProcessorStore;
  /**
   * Runs `fn` in one transaction: events appended through `tx` and statements run on
   * `tx.client` commit together or not at all. Keep it short: while it is open, subscribers of
   * every store on the server wait at the snapshot barrier.
   */
  transaction<T>(fn: (tx: PostgresTransaction) => Promise<T>): Promise<T>;
}

/**
 * The PostgreSQL event store (the default adapter). Call {@link EventStore.migrate} once before use.
 *
 * Every call that cannot reach the server throws EventStoreUnavailableError
 * (`TF_ERR_STORE_UNAVAILABLE`) naming host and port only; subscriptions instead reconnect and
 * resume from their last checkpoint.
 */
export function createPostgresEventStore(options: PostgresEventStoreOptions): PostgresEventStore {
  const n = schemaNames(checkSchemaName(options.schema ?? DEFAULT_SCHEMA));
  const target = describeTarget(options.connectionString);
  const onError = options.onError ?? (() => undefined);
  const pool = createPool(options, onError);
  const notifier = createNotifier(options, n.channel, onError);
  const fail = (operation: string) => (err: unknown) => mapPgError(err, target, operation);
  const readAllPage: EventStore['readAll'] = (o) => readAll(pool, n, o).catch(fail('readAll'));
  let closed: Promise<void> | null = null;
  // Subscriptions end quietly when the store closes, instead of failing on the ended pool.
  const closing = new AbortController();

  return {
    kind: 'postgres',
    schema: n.schema,
    pool,
    processors: processorStoreOn(pool, { ...options, schema: n.schema }, false),
    append: (stream, events, o) => appendToStream(pool, n, stream, events, o).catch(fail('append')),
    appendIdempotent: (events) => appendIdempotent(pool, n, events).catch(fail('appendIdempotent')),
    readStream: (stream, o) => readStream(pool, n, stream, o).catch(fail('readStream')),
    readAll: readAllPage,
    subscribeToAll: (o) =>
      pollingSubscription(readAllPage, notifier, {
        pollIntervalMs: options.pollIntervalMs,
        ...o,
        signal: o.signal ? AbortSignal.any([o.signal, closing.signal]) : closing.signal,
      }),
    migrate: () => migrateWith(pool, n, migrationSql(n)).catch(fail('migrate')),
    transaction: (fn) =>
      inTransaction(pool, (client) =>
        fn({
          client,
          append: (stream, events, o) => appendToStream(client, n, stream, events, o),
          appendIdempotent: (events) => appendIdempotent(client, n, events),
        }),
      ).catch(fail('transaction')),
    close: () =>
      (closed ??= (async () => {
        closing.abort();
        await notifier.close();
        await pool.end();
      })()),
  };
}
