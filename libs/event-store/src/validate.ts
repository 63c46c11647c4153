import { validateEvent, type TameFlareEvent } from '@tameflare/contracts';
import { EventStoreError, EventStoreErrorCode } from './errors.ts';

/**
 * Validates every event before anything is written, so one bad event fails the whole call.
 *
 * @throws ContractError from `validateEvent` naming the offending event and path.
 */
export function validateBatch(events: readonly unknown[]): TameFlareEvent[] {
  if (!Array.isArray(events)) throw new EventStoreError(EventStoreErrorCode.InvalidArgument, 'events must be an array');
  return events.map((e) => validateEvent(e));
}

const STREAM_RE = /^[^$\s\u0000-\u001f][^\u0000-\u001f]{0,199}$/;

/** Stream names are the catalog's `<family>-<id>`: printable, at most 200 characters, not `$`-prefixed (KurrentDB system streams). */
export function checkStreamName(stream: string): string {
  if (typeof stream !== 'string' || !STREAM_RE.test(stream)) {
    throw new EventStoreError(EventStoreErrorCode.InvalidArgument, `invalid stream name ${JSON.stringify(String(stream).slice(0, 80))}`);
  }
  return stream;
}

export function checkLimit(name: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new EventStoreError(EventStoreErrorCode.InvalidArgument, `${name} must be an integer from 1 to ${max}, got ${value}`);
  }
  return value;
}
