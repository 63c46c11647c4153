import type { TameFlareEvent } from '@tameflare/contracts';
import { encodePostgresCheckpoint } from '../checkpoint.ts';
import type { RecordedEvent } from '../types.ts';

/** The columns every read selects, in the shape {@link toRecordedEvent} expects. */
export const EVENT_COLUMNS =
  'e.global_position, e.transaction_id::text AS transaction_id, e.stream_id, e.stream_version, e.event_id, e.event_type, e.event_version, e.event_time, e.data, e.metadata';

export interface EventRow {
  global_position: string;
  transaction_id: string;
  stream_id: string;
  stream_version: string;
  event_id: string;
  event_type: string;
  event_version: number;
  event_time: string;
  data: unknown;
  metadata: unknown;
}

/** Rebuilds the envelope exactly as it was appended (validated then; not re-validated on read). */
export function toRecordedEvent(row: EventRow): RecordedEvent {
  const globalPosition = BigInt(row.global_position);
  return {
    event: {
      id: row.event_id,
      type: row.event_type,
      version: row.event_version,
      time: row.event_time,
      data: row.data,
      metadata: row.metadata,
    } as TameFlareEvent,
    streamId: row.stream_id,
    streamVersion: BigInt(row.stream_version),
    globalPosition,
    checkpoint: encodePostgresCheckpoint(BigInt(row.transaction_id), globalPosition),
  };
}
