import { isTameFlareError, subjectOf, type TameFlareEvent } from '@tameflare/contracts';
import { isUnavailable, type PostgresEventStore } from '@tameflare/event-store';
import type { BatchHandler, ConsumedMessage } from '@tameflare/messaging';
import { RecorderError, RecorderErrorCode } from './errors.ts';
import { insertRejected, type RejectedMessage } from './rejected-messages.ts';

export interface RecordBatchOptions {
  store: PostgresEventStore;
  /** Schema of the rejected-messages table. */
  recorderSchema: string;
  /** JetStream stream the consumer reads (stored with rejected messages). */
  stream: string;
  log: { warn(obj: object, msg?: string): void; debug?(obj: object, msg?: string): void };
  /** Called after every attempt to write: the store answered, or it is unavailable. */
  onStore(available: boolean, err?: unknown): void;
  /** Pause before a batch that hit an unavailable store is handed back for redelivery. */
  backoffMs(failures: number): number;
}

/**
 * The recorder's batch handler. Every message is validated; the valid events are appended with
 * `appendIdempotent` and the invalid messages stored in the rejected-messages table, in one
 * transaction; only then are the valid ones acked and the invalid ones terminated. When the
 * store is unavailable nothing is settled: the handler waits, then throws, and the consumer
 * hands the batch back for redelivery.
 */
export function createBatchRecorder(options: RecordBatchOptions): BatchHandler {
  let failures = 0;
  return async (batch: ConsumedMessage[]) => {
    const valid: { m: ConsumedMessage; event: TameFlareEvent }[] = [];
    const rejected: { m: ConsumedMessage; row: RejectedMessage }[] = [];
    for (const m of batch) {
      try {
        const event = m.event();
        const expected = subjectOf(event);
        if (expected !== m.subject) {
          throw new RecorderError(RecorderErrorCode.SubjectMismatch, `${event.type} ${event.id} arrived on ${m.subject}, its subject is ${expected}`);
        }
        valid.push({ m, event });
      } catch (err) {
        if (!isTameFlareError(err)) throw err;
        rejected.push({
          m,
          row: {
            stream: options.stream,
            seq: m.seq,
            subject: m.subject,
            deliveryCount: m.deliveryCount,
            errorCode: err.code,
            errorMessage: err.message,
            payload: m.data,
            headers: m.headers,
          },
        });
      }
    }

    const events = valid.map((v) => v.event);
    try {
      if (rejected.length === 0) {
        await options.store.appendIdempotent(events);
      } else {
        await options.store.transaction(async (tx) => {
          if (events.length) await tx.appendIdempotent(events);
          await insertRejected(tx.client, options.recorderSchema, rejected.map((r) => r.row));
        });
      }
    } catch (err) {
      if (!isUnavailable(err)) throw err;
      failures++;
      options.onStore(false, err);
      await new Promise((r) => setTimeout(r, options.backoffMs(failures)));
      throw err;
    }
    failures = 0;
    options.onStore(true);
    for (const v of valid) v.m.ack();
    for (const r of rejected) {
      // The payload stays in the table; the log names the message and the reason only.
      options.log.warn(
        { subject: r.row.subject, seq: r.row.seq, code: r.row.errorCode, reason: r.row.errorMessage },
        'rejected a message that is not a valid event; stored in rejected_messages',
      );
      r.m.term(r.row.errorCode);
    }
  };
}
