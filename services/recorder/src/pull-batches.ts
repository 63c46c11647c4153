import { jetstream, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { parseEvent } from '@tameflare/contracts';
import { extractTrace, type BatchHandler, type Bus, type ConsumedMessage, type DurableConsumerRef } from '@tameflare/messaging';

export interface PullBatchesOptions {
  /** Largest batch (default 500). */
  batchSize?: number;
  /** A batch closes when no further message arrives within this time (default 5 ms). */
  lingerMs?: number;
  ackWaitMs?: number;
  maxAckPending?: number;
  /** Redelivery delay of a batch whose handler threw (default 500 ms). */
  nakDelayMs?: number;
  /**
   * Batches handled at once (default 2): the next batch is validated while the previous one is
   * being appended. The handler must be safe to run concurrently (appendIdempotent is).
   */
  concurrency?: number;
  onError(err: unknown, size: number): void;
}

export interface PullBatchesHandle {
  /** Stops pulling and resolves once the batch in progress is settled. */
  stop(): Promise<void>;
  readonly done: Promise<void>;
}

const LINGER = Symbol('linger');

/**
 * A shared durable pull consumer handed over in batches of up to `batchSize` messages, closed
 * after `lingerMs` without a new message. `Bus.consume` closes a batch only when the server
 * reports nothing pending, which never happens for the last messages of a replica while another
 * replica pulls the rest: they would wait for the ack timeout. The time-based close keeps every
 * replica's tail moving.
 */
export async function pullBatches(bus: Bus, ref: DurableConsumerRef, handler: BatchHandler, options: PullBatchesOptions): Promise<PullBatchesHandle> {
  const batchSize = options.batchSize ?? 500;
  const lingerMs = options.lingerMs ?? 5;
  const nakDelayMs = options.nakDelayMs ?? 500;
  const concurrency = Math.max(1, options.concurrency ?? 2);
  const running = new Set<Promise<void>>();
  await bus.ensureConsumer(ref, { ackWaitMs: options.ackWaitMs, maxAckPending: options.maxAckPending });
  const consumer = await jetstream(bus.nc).consumers.get(ref.stream, ref.durable);
  const messages: ConsumerMessages = await consumer.consume({ max_messages: batchSize });
  const it = messages[Symbol.asyncIterator]();

  const done = (async () => {
    let next: Promise<IteratorResult<JsMsg>> | null = null;
    for (let ended = false; !ended; ) {
      next ??= it.next();
      const first = await next;
      next = null;
      if (first.done) return;
      const batch: ConsumedMessage[] = [wrap(first.value)];
      while (batch.length < batchSize) {
        next ??= it.next();
        let timer: NodeJS.Timeout | undefined;
        const r = await Promise.race([next, new Promise<typeof LINGER>((resolve) => (timer = setTimeout(resolve, lingerMs, LINGER)))]);
        clearTimeout(timer);
        if (r === LINGER) break;
        next = null;
        if (r.done) {
          ended = true;
          break;
        }
        batch.push(wrap(r.value));
      }
      const work = (async () => {
        try {
          await handler(batch);
        } catch (err) {
          options.onError(err, batch.length);
          for (const m of batch) if (!m.settled) m.nak(nakDelayMs);
        }
      })();
      running.add(work);
      void work.finally(() => running.delete(work));
      if (running.size >= concurrency) await Promise.race(running);
    }
  })().finally(() => Promise.all(running));

  return {
    done,
    async stop() {
      messages.stop();
      await done;
    },
  };
}

function wrap(jm: JsMsg): ConsumedMessage {
  let settled = false;
  const settle = (fn: () => void) => {
    if (settled) return;
    settled = true;
    fn();
  };
  return {
    subject: jm.subject,
    seq: jm.seq,
    deliveryCount: jm.info.deliveryCount,
    headers: jm.headers,
    data: jm.data,
    get traceContext() {
      return extractTrace(jm.headers);
    },
    event: () => parseEvent(jm.data),
    json: <T>() => jm.json<T>(),
    ack: () => settle(() => jm.ack()),
    nak: (delayMs?: number) => settle(() => jm.nak(delayMs)),
    // nats-server 2.9 does not parse `+TERM <reason>`: the reason is stored in rejected_messages instead.
    term: () => settle(() => jm.term()),
    working: () => jm.working(),
    get settled() {
      return settled;
    },
  };
}
