import { sql, type Kysely } from 'kysely';
import type { OpsTables } from '../db/connect.ts';

export type ProcessorState = 'starting' | 'waiting_for_lock' | 'running' | 'stopped' | 'failed';

/** What a processor is doing; `failed` names the event it stopped on. */
export interface ProcessorStatus {
  processorId: string;
  state: ProcessorState;
  instanceId: string;
  checkpoint: string | null;
  eventsApplied: number;
  lastEventTime: string | null;
  failedEventId?: string | null;
  failedEventType?: string | null;
  failedCheckpoint?: string | null;
  errorCode?: string | null;
  errorMessage?: string | null;
}

/**
 * Records a processor's status in `audit_ops.processor_status`. `eventsApplied` is added to the
 * stored count; the failure fields are cleared unless given.
 */
export async function writeProcessorStatus(db: Kysely<OpsTables>, s: ProcessorStatus): Promise<void> {
  const row = {
    state: s.state,
    instance_id: s.instanceId,
    checkpoint: s.checkpoint,
    last_event_time: s.lastEventTime,
    failed_event_id: s.failedEventId ?? null,
    failed_event_type: s.failedEventType ?? null,
    failed_checkpoint: s.failedCheckpoint ?? null,
    error_code: s.errorCode ?? null,
    error_message: s.errorMessage?.slice(0, 2000) ?? null,
    updated_at: new Date().toISOString(),
  };
  await db
    .insertInto('processor_status')
    .values({ processor_id: s.processorId, events_applied: s.eventsApplied, ...row })
    .onConflict((oc) =>
      oc.column('processor_id').doUpdateSet({
        ...row,
        events_applied: sql`processor_status.events_applied + ${s.eventsApplied}`,
        last_event_time: sql`coalesce(${s.lastEventTime}::timestamptz, processor_status.last_event_time)`,
        checkpoint: sql`coalesce(${s.checkpoint}::text, processor_status.checkpoint)`,
      }),
    )
    .execute();
}

/** Every processor's status, by id. */
export async function readProcessorStatus(db: Kysely<OpsTables>): Promise<ProcessorStatus[]> {
  const rows = await db.selectFrom('processor_status').selectAll().orderBy('processor_id').execute();
  return rows.map((r) => ({
    processorId: r.processor_id,
    state: r.state as ProcessorState,
    instanceId: r.instance_id,
    checkpoint: r.checkpoint,
    eventsApplied: Number(r.events_applied),
    lastEventTime: r.last_event_time,
    failedEventId: r.failed_event_id,
    failedEventType: r.failed_event_type,
    failedCheckpoint: r.failed_checkpoint,
    errorCode: r.error_code,
    errorMessage: r.error_message,
  }));
}
