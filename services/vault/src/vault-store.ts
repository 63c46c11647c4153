import type { TameFlareEvent } from '@tameflare/contracts';
import type { PostgresEventStore } from '@tameflare/event-store';
import type { Queryable } from './repository.ts';

/** A transaction over the vault's tables in which lifecycle events are recorded atomically. */
export interface VaultTransaction {
  readonly client: Queryable;
  /** Appends the events to the event store, committed with the table writes or not at all. */
  record(events: readonly TameFlareEvent[]): Promise<void>;
}

/** Where the vault keeps its rows and records its lifecycle events. */
export interface VaultStore {
  /** For reads outside a transaction (the release path). */
  readonly db: Queryable;
  transaction<T>(fn: (tx: VaultTransaction) => Promise<T>): Promise<T>;
}

/**
 * The vault's tables live in the event store's PostgreSQL database (schema `tf_vault`), so a
 * stored secret and its `SecretStored` event commit in one transaction: there is never a version
 * without its event, or an event without its version.
 */
export function postgresVaultStore(store: PostgresEventStore): VaultStore {
  return {
    db: store.pool,
    transaction: (fn) =>
      store.transaction((tx) =>
        fn({
          client: tx.client,
          record: async (events) => {
            await tx.appendIdempotent([...events]);
          },
        }),
      ),
  };
}
