import { sql } from 'kysely';
import type pg from 'pg';
import type { ProcessorStore } from '@tameflare/event-store';
import { kyselyOnClient, type Queryable } from '../db/on-client.ts';
import type { OpsTables, ReadModels } from '../db/connect.ts';
import { OPS_SCHEMA } from '../db/schemas.ts';
import { AuditError, AuditErrorCode } from '../errors.ts';
import { sealBatch, type SealableEvent, type SealResult, type SigningPolicy } from '../chain/seal-batch.ts';
import { applyPlan, isPermanentProjectionError } from './apply-plan.ts';
import { foldBatch, type ProjectionPlan } from './fold-batch.ts';

/**
 * Checkpoint load/save of the event store's processor table (`store.processors`), run on the
 * caller's client so the save commits with the effects; save is a compare-and-set.
 */
export type CheckpointStore = Pick<ProcessorStore, 'loadCheckpoint' | 'saveCheckpoint'>;

/** An event from the event store (`RecordedEvent` satisfies it). */
export interface StoredEvent extends SealableEvent {
  readonly event: unknown;
}

async function inTransaction<T>(client: pg.ClientBase, work: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const out = await work();
    await client.query('COMMIT');
    return out;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** The current read-model generation (bumped by every replay swap). */
export async function readModelGeneration(q: Queryable): Promise<string> {
  const { rows } = await q.query({ text: `SELECT generation::text AS g FROM ${OPS_SCHEMA}.read_model_state WHERE id = 1` });
  return (rows[0]?.g as string | undefined) ?? '1';
}

export interface ProjectBatchOptions {
  /** Target schema of the read models (`audit`, or the rebuild schema during a replay). */
  schema: string;
  events: readonly StoredEvent[];
  /** Save the checkpoint with the effects; omit for a rebuild that keeps its position in memory. */
  checkpoint?: { store: CheckpointStore; processorId: string; expected: string | null };
  /** Refuse the batch if a replay swapped the read models since this generation was read. */
  generation?: string;
}

/**
 * Applies one batch to the read models and moves the checkpoint, in one transaction: the batch is
 * applied exactly once or not at all.
 *
 * @returns the checkpoint of the last event.
 * @throws AuditError `TF_ERR_AUDIT_PROJECTION` for an event that cannot be applied (see {@link projectIsolating}),
 * `TF_ERR_AUDIT_SUPERSEDED` when a replay swapped the read models in the meantime.
 */
export async function projectBatch(client: pg.ClientBase, options: ProjectBatchOptions): Promise<string> {
  const last = options.events.at(-1);
  if (!last) throw new TypeError('projectBatch needs at least one event');
  const plan = foldBatch(options.events.map((e) => ({ envelope: e.event, checkpoint: e.checkpoint })));
  return inTransaction(client, async () => {
    if (options.generation !== undefined) {
      const { rows } = await client.query(`SELECT generation::text AS g FROM ${OPS_SCHEMA}.read_model_state WHERE id = 1 FOR SHARE`);
      if (rows[0]?.g !== options.generation) {
        throw new AuditError(AuditErrorCode.Superseded, `the read models were swapped by a replay (generation ${options.generation} → ${rows[0]?.g})`);
      }
    }
    await applyPlan(kyselyOnClient<ReadModels>(client), options.schema, plan);
    if (options.checkpoint) {
      await options.checkpoint.store.saveCheckpoint(client, options.checkpoint.processorId, options.checkpoint.expected, last.checkpoint);
    }
    return last.checkpoint;
  });
}

/** Applies an already folded batch to `schema` in its own transaction (no checkpoint: a rebuild keeps its position in memory). */
export async function applyPlanInTransaction(client: pg.ClientBase, schema: string, plan: ProjectionPlan): Promise<void> {
  await inTransaction(client, () => applyPlan(kyselyOnClient<ReadModels>(client), schema, plan));
}

/** Folds and applies events to `schema` on `client`, in whatever transaction the caller has open. */
export async function applyEvents(client: pg.ClientBase, schema: string, events: readonly StoredEvent[]): Promise<void> {
  if (events.length === 0) return;
  const plan = foldBatch(events.map((e) => ({ envelope: e.event, checkpoint: e.checkpoint })));
  await applyPlan(kyselyOnClient<ReadModels>(client), schema, plan);
}

export interface SealChainBatchOptions {
  events: readonly StoredEvent[];
  checkpoint: { store: CheckpointStore; processorId: string; expected: string | null };
  signing: SigningPolicy | null;
}

/** Seals one batch into the audit chain and moves the sealer's checkpoint, in one transaction. */
export async function sealChainBatch(client: pg.ClientBase, options: SealChainBatchOptions): Promise<SealResult & { checkpoint: string }> {
  const last = options.events.at(-1);
  if (!last) throw new TypeError('sealChainBatch needs at least one event');
  return inTransaction(client, async () => {
    const db = kyselyOnClient<OpsTables>(client).withSchema(OPS_SCHEMA);
    // One sealer at a time even if two instances both believe they hold the processor lock.
    await sql`SELECT pg_advisory_xact_lock(hashtext('tameflare.audit.chain'))`.execute(db);
    const result = await sealBatch(db, options.events, options.signing);
    await options.checkpoint.store.saveCheckpoint(client, options.checkpoint.processorId, options.checkpoint.expected, last.checkpoint);
    return { ...result, checkpoint: last.checkpoint };
  });
}

/**
 * Runs `apply` on the whole batch; if it fails for a reason that is about the data, runs it again
 * one event at a time, so every event before the culprit is applied (and checkpointed) and the
 * error names the one event that cannot be applied. Never skips it.
 */
export async function projectIsolating<T>(events: readonly StoredEvent[], apply: (events: readonly StoredEvent[]) => Promise<T>, onApplied?: (result: T, events: readonly StoredEvent[]) => void): Promise<void> {
  try {
    onApplied?.(await apply(events), events);
    return;
  } catch (err) {
    if (events.length === 1 || !isPermanentProjectionError(err)) throw attribute(err, events);
  }
  for (const e of events) {
    try {
      onApplied?.(await apply([e]), [e]);
    } catch (err) {
      throw attribute(err, [e]);
    }
  }
}

function attribute(err: unknown, events: readonly StoredEvent[]): unknown {
  if (events.length !== 1 || !isPermanentProjectionError(err)) return err;
  if (err instanceof AuditError && err.code === AuditErrorCode.Projection && err.details?.eventId) return err;
  const e = events[0]!;
  const env = (e.event ?? {}) as { id?: unknown; type?: unknown };
  return new AuditError(AuditErrorCode.Projection, `cannot apply event ${String(env.id)} (${String(env.type)}) at ${e.checkpoint}: ${(err as Error).message}`, {
    cause: err,
    details: { eventId: typeof env.id === 'string' ? env.id : null, eventType: typeof env.type === 'string' ? env.type : null, checkpoint: e.checkpoint },
  });
}
