import { isTameFlareError, type TameFlareEvent } from '@tameflare/contracts';
import { EventStoreErrorCode, type EventStore, type ExpectedVersion, type StreamVersion } from '@tameflare/event-store';
import { ControlErrorCode, controlError } from './errors.ts';

/** A stream as read for a decision: its events and the version to append at. */
export interface StreamState {
  version: StreamVersion;
  events: TameFlareEvent[];
}

/** The event store as the control commands use it: read a stream, append at the version read. */
export interface ControlStreams {
  read(stream: string): Promise<StreamState>;
  /** Appends at `expected`; a concurrent writer yields `TF_ERR_CONTROL_CONFLICT`, an outage `TF_ERR_CONTROL_UNAVAILABLE`. */
  append(stream: string, events: TameFlareEvent[], expected: StreamVersion | ExpectedVersion): Promise<void>;
}

function mapStoreError(err: unknown, what: string): never {
  if (isTameFlareError(err, EventStoreErrorCode.WrongVersion)) {
    throw controlError(ControlErrorCode.Conflict, `${what}: another command changed it at the same time; retry`, { cause: err });
  }
  if (isTameFlareError(err, EventStoreErrorCode.Unavailable)) {
    throw controlError(ControlErrorCode.Unavailable, `${what}: the event store is unavailable; nothing changed`, { cause: err });
  }
  throw err;
}

export function controlStreams(store: EventStore): ControlStreams {
  return {
    async read(stream) {
      try {
        const r = await store.readStream(stream);
        return { version: r.version, events: r.events.map((e) => e.event) };
      } catch (err) {
        return mapStoreError(err, `reading ${stream}`);
      }
    },
    async append(stream, events, expected) {
      try {
        await store.append(stream, events, { expectedVersion: expected });
      } catch (err) {
        mapStoreError(err, `recording ${events.map((e) => e.type).join(', ')} in ${stream}`);
      }
    },
  };
}

/** Runs a KV write after its event was recorded; a failure is `TF_ERR_CONTROL_UNAVAILABLE` (a retry repairs it). */
export async function applyToKv<T>(what: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    throw controlError(ControlErrorCode.Unavailable, `${what}: recorded, but KV could not be updated (${(err as Error).message}); retry the command`, { cause: err });
  }
}
