import { TameFlareError, isTameFlareError } from '@tameflare/contracts';
import type { ExpectedVersion, StreamVersion } from './types.ts';

/** Codes raised by the event store. */
export const EventStoreErrorCode = {
  /** The stream's version did not match the expected version. */
  WrongVersion: 'TF_ERR_STORE_WRONG_VERSION',
  /** The store cannot be reached (down, restarting, refused, timed out). Retry later. */
  Unavailable: 'TF_ERR_STORE_UNAVAILABLE',
  /** `append` was given an event whose id is already stored. */
  DuplicateEvent: 'TF_ERR_STORE_DUPLICATE_EVENT',
  /** A checkpoint string that this store did not produce. */
  BadCheckpoint: 'TF_ERR_STORE_BAD_CHECKPOINT',
  /** A processor checkpoint moved since it was loaded (another instance is running). */
  CheckpointConflict: 'TF_ERR_STORE_CHECKPOINT_CONFLICT',
  /** A processor lost its single-active lock (connection gone). */
  LockLost: 'TF_ERR_STORE_LOCK_LOST',
  /**
   * A transaction that had already written before appending would land behind a younger
   * transaction in a stream. Retry the whole transaction (or append before other writes).
   */
  OrderingConflict: 'TF_ERR_STORE_ORDERING_CONFLICT',
  /** Invalid configuration or arguments (schema name, batch size...). */
  InvalidArgument: 'TF_ERR_STORE_INVALID_ARGUMENT',
} as const;

/** The stream was not at the expected version: someone else appended first. Nothing was written. */
export class WrongExpectedVersionError extends TameFlareError {
  readonly stream: string;
  readonly expected: ExpectedVersion;
  readonly actual: StreamVersion;

  constructor(stream: string, expected: ExpectedVersion, actual: StreamVersion, options?: { cause?: unknown }) {
    super(EventStoreErrorCode.WrongVersion, `stream "${stream}" is at version ${String(actual)}, expected ${String(expected)}`, {
      cause: options?.cause,
      details: { stream, expected: String(expected), actual: String(actual) },
    });
    this.stream = stream;
    this.expected = expected;
    this.actual = actual;
  }
}

/** The store cannot be reached. Nothing is known to be written unless the call was idempotent. */
export class EventStoreUnavailableError extends TameFlareError {
  constructor(message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(EventStoreErrorCode.Unavailable, message, options);
  }
}

/** `append` was given an event id that is already stored; use `appendIdempotent` for redelivery. */
export class DuplicateEventError extends TameFlareError {
  constructor(stream: string, options?: { cause?: unknown }) {
    super(EventStoreErrorCode.DuplicateEvent, `an event appended to "${stream}" has an id that is already stored`, {
      cause: options?.cause,
      details: { stream },
    });
  }
}

/** A processor's stored checkpoint is not the one it expected: another instance moved it. */
export class CheckpointConflictError extends TameFlareError {
  constructor(processorId: string, expected: string | null, actual: string | null) {
    super(EventStoreErrorCode.CheckpointConflict, `checkpoint of processor "${processorId}" is ${actual ?? 'unset'}, expected ${expected ?? 'unset'}`, {
      details: { processorId, expected, actual },
    });
  }
}

/** Another error of this library with a stable code: bad checkpoint, lost lock, bad argument. */
export class EventStoreError extends TameFlareError {}

/** True for {@link EventStoreUnavailableError} from any copy of this library. */
export function isUnavailable(err: unknown): boolean {
  return isTameFlareError(err, EventStoreErrorCode.Unavailable);
}
