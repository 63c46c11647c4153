import { decodePostgresCheckpoint } from '../checkpoint.ts';
import type { ReadAllOptions, RecordedEvent } from '../types.ts';
import { checkLimit } from '../validate.ts';
import type { Queryable } from './queryable.ts';
import { EVENT_COLUMNS, toRecordedEvent, type EventRow } from './rows.ts';
import type { SchemaNames } from './schema.ts';

export const MAX_PAGE = 10_000;

/**
 * One page of the global log in `(transaction_id, global_position)` order, only from transactions
 * older than every transaction still running (`pg_snapshot_xmin`). A writer that took an earlier
 * position but commits later has a lower transaction id than that barrier until it commits, so
 * its events are never passed over by a checkpoint.
 */
export async function readAll(q: Queryable, n: SchemaNames, options: ReadAllOptions): Promise<RecordedEvent[]> {
  const limit = checkLimit('limit', options.limit, MAX_PAGE);
  const after = options.after === null ? { transactionId: 0n, globalPosition: 0n } : decodePostgresCheckpoint(options.after);
  const { rows } = await q.query({
    name: `${n.schema}.read_all`,
    text: `SELECT ${EVENT_COLUMNS}
           FROM ${n.q}.events e
           WHERE e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
             AND (e.transaction_id, e.global_position) > ($1::text::xid8, $2::bigint)
           ORDER BY e.transaction_id, e.global_position
           LIMIT $3`,
    values: [after.transactionId.toString(), after.globalPosition.toString(), limit],
  });
  return (rows as EventRow[]).map(toRecordedEvent);
}
