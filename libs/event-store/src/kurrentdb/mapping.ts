import { isTameFlareError, type TameFlareEvent } from '@tameflare/contracts';
import { ANY, NO_STREAM, STREAM_EXISTS, jsonEvent, type AllStreamResolvedEvent, type AppendStreamState, type EventData, type ResolvedEvent } from '@kurrent/kurrentdb-client';
import { encodeKurrentDbCheckpoint } from '../checkpoint.ts';
import { EventStoreError, EventStoreErrorCode, EventStoreUnavailableError } from '../errors.ts';
import type { ExpectedVersion, RecordedEvent } from '../types.ts';

/** Our expected version as the client's `streamState`: the constants are spelled the same, revisions are bigints. */
export function toStreamState(v: ExpectedVersion): AppendStreamState {
  if (typeof v === 'bigint') {
    if (v < 0n) throw new EventStoreError(EventStoreErrorCode.InvalidArgument, `expected version must be >= 0, got ${v}`);
    return v;
  }
  if (v === 'any') return ANY;
  if (v === 'no_stream') return NO_STREAM;
  if (v === 'stream_exists') return STREAM_EXISTS;
  throw new EventStoreError(EventStoreErrorCode.InvalidArgument, `invalid expected version ${JSON.stringify(String(v))}`);
}

/**
 * Our envelope as a KurrentDB JSON event: the event id and type map one to one; the schema
 * version and producer time ride in the metadata next to ours (`tfVersion`, `tfTime`), with
 * `$correlationId`/`$causationId` so KurrentDB's own projections can follow the chain.
 */
export function toEventData(event: TameFlareEvent): EventData {
  return jsonEvent({
    id: event.id,
    type: event.type,
    data: event.data as Record<string, unknown>,
    metadata: {
      ...event.metadata,
      $correlationId: event.metadata.correlationId,
      ...(event.metadata.causationId ? { $causationId: event.metadata.causationId } : {}),
      tfVersion: event.version,
      tfTime: event.time,
    },
  });
}

/** A resolved event read back from KurrentDB, or null for anything that is not one of ours. */
export function fromResolved(resolved: ResolvedEvent | AllStreamResolvedEvent): RecordedEvent | null {
  const e = resolved.event;
  if (!e || !e.isJson || !e.position) return null;
  const meta = (e.metadata ?? {}) as Record<string, unknown>;
  if (typeof meta.tfVersion !== 'number' || typeof meta.tfTime !== 'string') return null;
  const { tfVersion, tfTime, $correlationId: _c, $causationId: _k, ...metadata } = meta;
  return {
    event: { id: e.id, type: e.type, version: tfVersion, time: tfTime, data: e.data, metadata } as unknown as TameFlareEvent,
    streamId: e.streamId,
    streamVersion: e.revision,
    globalPosition: e.position.commit,
    checkpoint: encodeKurrentDbCheckpoint(e.position.commit, e.position.prepare),
  };
}

/** `host:port` of a KurrentDB connection string, without credentials. */
export function describeKurrentTarget(connectionString: string): string {
  const m = /^[a-z+]+:\/\/(?:[^@/]*@)?([^/?]+)/i.exec(connectionString);
  return m ? m[1]! : 'the configured server';
}

const UNAVAILABLE_TYPES = new Set(['unavailable', 'deadline-exceeded', 'timeout', 'not-leader']);
// gRPC status codes: 4 DEADLINE_EXCEEDED, 14 UNAVAILABLE.
const UNAVAILABLE_GRPC = new Set([4, 14]);

/** True when a client error means the server cannot be reached (raw gRPC errors included). */
export function isKurrentUnavailable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { type?: unknown; code?: unknown };
  return (typeof e.type === 'string' && UNAVAILABLE_TYPES.has(e.type)) || (typeof e.code === 'number' && UNAVAILABLE_GRPC.has(e.code));
}

export function mapKurrentError(err: unknown, target: string, operation: string): never {
  if (isTameFlareError(err)) throw err;
  if (isKurrentUnavailable(err)) {
    const reason = err instanceof Error && err.message ? err.message.split('\n')[0] : 'unavailable';
    throw new EventStoreUnavailableError(`event store unavailable: ${operation} failed, KurrentDB at ${target} cannot be reached (${reason})`, {
      cause: err,
      details: { target, operation },
    });
  }
  throw err;
}
