import { streamOf, type TameFlareEvent } from '@tameflare/contracts';
import type { AppendIdempotentResult } from '../types.ts';
import { orderingConflict } from './append.ts';
import { validateBatch } from '../validate.ts';
import { batchParams } from './batch-params.ts';
import type { Queryable } from './queryable.ts';
import { ORDERING_SQLSTATE, type SchemaNames } from './schema.ts';

/**
 * The recorder's append: one statement, one transaction, ids already stored are skipped.
 *
 * A unique violation on the event id can still happen in one corner: the same id carried by two
 * different streams (a corrupted producer) in two concurrent batches. By the time the error
 * arrives the other transaction has committed, so one retry sees it and skips it.
 */
export async function appendIdempotent(q: Queryable, n: SchemaNames, events: TameFlareEvent[]): Promise<AppendIdempotentResult> {
  const batch = validateBatch(events);
  if (batch.length === 0) return { appended: 0, skipped: 0 };
  const streams = batch.map(streamOf);
  const params = batchParams(batch);
  for (let attempt = 1; ; attempt++) {
    try {
      const { rows } = await q.query({
        name: `${n.schema}.append_idempotent`,
        text: `SELECT o_appended FROM ${n.q}.append_idempotent($1, $2, $3, $4, $5, $6, $7)`,
        values: [streams, ...params],
      });
      const appended = rows[0]!.o_appended as number;
      return { appended, skipped: batch.length - appended };
    } catch (err) {
      const e = err as { code?: string; constraint?: string };
      if (attempt < 3 && e.code === '23505' && e.constraint === 'events_event_id_key') continue;
      if (e.code === ORDERING_SQLSTATE) throw orderingConflict(err);
      throw err;
    }
  }
}
