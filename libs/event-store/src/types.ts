import type { TameFlareEvent } from '@tameflare/contracts';

/**
 * Where a subscriber is in the global log. Opaque: compare two checkpoints of the same store only
 * with {@link compareCheckpoints}, store them as text, and never build one by hand. The
 * PostgreSQL adapter encodes `(transaction_id, global_position)`, the KurrentDB adapter the
 * `$all` commit and prepare positions.
 */
export type Checkpoint = string;

/** The version of a stream: the 0-based version of its last event, or `'no_stream'` when it has none. */
export type StreamVersion = bigint | 'no_stream';

/**
 * Optimistic concurrency for {@link EventStore.append}:
 * - a bigint: the stream's current version must be exactly this (the version of its last event);
 * - `'no_stream'`: the stream must not exist yet;
 * - `'stream_exists'`: the stream must have at least one event;
 * - `'any'`: no check.
 */
export type ExpectedVersion = bigint | 'no_stream' | 'stream_exists' | 'any';

/** An event as stored: the event itself and where it sits in its stream and in the global log. */
export interface RecordedEvent {
  event: TameFlareEvent;
  streamId: string;
  /** 0-based position of the event in its stream. */
  streamVersion: bigint;
  /**
   * Position in the global log. Unique and increasing in append order within a transaction, but
   * NOT monotonic in read order across transactions on PostgreSQL: resume from {@link checkpoint}.
   */
  globalPosition: bigint;
  /** Resume point: a subscription started `after` this checkpoint delivers the events that follow it. */
  checkpoint: Checkpoint;
}

/** Where one appended event landed. */
export interface AppendedPosition {
  globalPosition: bigint;
  checkpoint: Checkpoint;
}

export interface AppendOptions {
  expectedVersion: ExpectedVersion;
}

export interface AppendResult {
  /** The stream's version after the append: pass it as the next `expectedVersion`. */
  nextExpectedVersion: bigint;
  /** One entry per appended event, in order. */
  positions: AppendedPosition[];
}

export interface AppendIdempotentResult {
  /** Events written by this call. */
  appended: number;
  /** Events skipped because an event with the same id was already stored (or repeated in the batch). */
  skipped: number;
}

export interface ReadStreamOptions {
  /** First stream version to return (default 0). */
  fromVersion?: bigint;
  /** At most this many events (default: all). */
  maxCount?: number;
}

export interface ReadStreamResult {
  /** The stream's current version, whatever part of it was read; `'no_stream'` when it does not exist. */
  version: StreamVersion;
  events: RecordedEvent[];
}

export interface ReadAllOptions {
  /** Start after this checkpoint; `null` reads from the beginning. */
  after: Checkpoint | null;
  limit: number;
}

export interface SubscribeOptions {
  /** Start after this checkpoint; `null` starts from the beginning of the log. */
  after: Checkpoint | null;
  /** Largest batch yielded at once (default 500). */
  batchSize?: number;
  /** Ends the subscription (the iterator returns). */
  signal?: AbortSignal;
  /**
   * Called each time the store is unreachable and the subscription backs off before retrying.
   * The subscription itself never fails for unavailability; it reconnects and resumes.
   */
  onUnavailable?: (error: Error, attempt: number) => void;
}

/**
 * The event store port. Every adapter validates each event with `validateEvent` from
 * `@tameflare/contracts` before anything is written, so a malformed event fails the whole call
 * with a `ContractError` and nothing of the batch is stored.
 */
export interface EventStore {
  /** Which adapter this is, for logs and health output. */
  readonly kind: 'postgres' | 'kurrentdb';

  /**
   * Appends events to one stream atomically, checking `expectedVersion` first.
   *
   * @throws ContractError when an event breaks its contract (nothing is written).
   * @throws WrongExpectedVersionError (`TF_ERR_STORE_WRONG_VERSION`) on a concurrency conflict.
   * @throws DuplicateEventError (`TF_ERR_STORE_DUPLICATE_EVENT`) when an event id is already stored.
   * @throws EventStoreUnavailableError (`TF_ERR_STORE_UNAVAILABLE`) when the store cannot be reached.
   */
  append(stream: string, events: TameFlareEvent[], options: AppendOptions): Promise<AppendResult>;

  /**
   * Appends each event to `streamOf(event)` without a version check, skipping events whose id is
   * already stored, all in one transaction. Safe to call concurrently from several processes with
   * overlapping batches: each id is stored once and stream versions stay gap-free.
   */
  appendIdempotent(events: TameFlareEvent[]): Promise<AppendIdempotentResult>;

  readStream(stream: string, options?: ReadStreamOptions): Promise<ReadStreamResult>;

  /** One page of the global log after `after`, in the store's stable order. */
  readAll(options: ReadAllOptions): Promise<RecordedEvent[]>;

  /**
   * Every event after `after`, in the same order as {@link readAll}, as batches; waits for new
   * events when caught up. Survives the store going away and coming back.
   */
  subscribeToAll(options: SubscribeOptions): AsyncIterable<RecordedEvent[]>;

  /** Creates the schema (idempotent, safe to run from several processes at once). */
  migrate(): Promise<void>;

  /** Releases every connection. */
  close(): Promise<void>;
}
