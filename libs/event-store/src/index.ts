export type {
  AppendIdempotentResult,
  AppendOptions,
  AppendResult,
  AppendedPosition,
  Checkpoint,
  EventStore,
  ExpectedVersion,
  ReadAllOptions,
  ReadStreamOptions,
  ReadStreamResult,
  RecordedEvent,
  StreamVersion,
  SubscribeOptions,
} from './types.ts';
export {
  CheckpointConflictError,
  DuplicateEventError,
  EventStoreError,
  EventStoreErrorCode,
  EventStoreUnavailableError,
  WrongExpectedVersionError,
  isUnavailable,
} from './errors.ts';
export { compareCheckpoints } from './checkpoint.ts';
export { createPostgresEventStore, type PostgresEventStore, type PostgresEventStoreOptions, type PostgresTransaction } from './postgres/postgres-event-store.ts';
export type { PostgresConnectionOptions } from './postgres/connection.ts';
export type { Queryable } from './postgres/queryable.ts';
export { createProcessorStore, type ProcessorStore } from './processors/processor-store.ts';
export { acquireProcessorLock, type AcquireProcessorLockOptions, type ProcessorLock } from './processors/processor-lock.ts';
export { createKurrentDbEventStore, type KurrentDbEventStoreOptions } from './kurrentdb/kurrentdb-event-store.ts';
