import { CheckpointConflictError, EventStoreError, EventStoreErrorCode } from '../errors.ts';
import type { Queryable } from '../postgres/queryable.ts';
import type { SchemaNames } from '../postgres/schema.ts';
import type { Checkpoint } from '../types.ts';

/** The stored checkpoint of `processorId`, or `null` before its first save. */
export async function loadCheckpoint(q: Queryable, n: SchemaNames, processorId: string): Promise<Checkpoint | null> {
  checkProcessorId(processorId);
  const { rows } = await q.query({
    name: `${n.schema}.load_checkpoint`,
    text: `SELECT checkpoint FROM ${n.q}.processors WHERE processor_id = $1`,
    values: [processorId],
  });
  return (rows[0]?.checkpoint as string | undefined) ?? null;
}

/**
 * Moves the checkpoint of `processorId` from `expected` to `next`, compare-and-set. Run it on the
 * client of the transaction that applied the events, so the effects and the checkpoint commit
 * together or not at all. Saving `next` again when it is already stored is a no-op.
 *
 * @throws CheckpointConflictError (`TF_ERR_STORE_CHECKPOINT_CONFLICT`) when the stored checkpoint
 * is neither `expected` nor `next`: another instance moved it. Roll the transaction back.
 */
export async function saveCheckpoint(q: Queryable, n: SchemaNames, processorId: string, expected: Checkpoint | null, next: Checkpoint): Promise<void> {
  checkProcessorId(processorId);
  const { rowCount } =
    expected === null
      ? await q.query({
          name: `${n.schema}.insert_checkpoint`,
          text: `INSERT INTO ${n.q}.processors (processor_id, checkpoint) VALUES ($1, $2) ON CONFLICT (processor_id) DO NOTHING`,
          values: [processorId, next],
        })
      : await q.query({
          name: `${n.schema}.move_checkpoint`,
          text: `UPDATE ${n.q}.processors SET checkpoint = $3, updated_at = now() WHERE processor_id = $1 AND checkpoint = $2`,
          values: [processorId, expected, next],
        });
  if (rowCount === 1) return;
  const current = await loadCheckpoint(q, n, processorId);
  if (current === next) return;
  throw new CheckpointConflictError(processorId, expected, current);
}

export function checkProcessorId(processorId: string): string {
  if (typeof processorId !== 'string' || !/^[a-zA-Z0-9][a-zA-Z0-9._:-]{0,199}$/.test(processorId)) {
    throw new EventStoreError(EventStoreErrorCode.InvalidArgument, `invalid processor id ${JSON.stringify(String(processorId).slice(0, 80))}`);
  }
  return processorId;
}
