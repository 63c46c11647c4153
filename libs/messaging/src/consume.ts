import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/transport-node';
import { parseEvent, type TameFlareEvent } from '@tameflare/contracts';
import { toMessagingError } from './errors.ts';
import { ensureConsumer, type DurableConsumerRef, type EnsureConsumerOptions } from './streams.ts';
import { context, extractTrace, failSpan, messagingAttributes, SpanKind, trace, tracer, type Context } from './trace.ts';
import type { BusCore } from './types.ts';

/** One message of a batch handed to a {@link BatchHandler}. Settle it with exactly one of ack/nak/term. */
export interface ConsumedMessage {
  readonly subject: string;
  /** Stream sequence. */
  readonly seq: number;
  /** 1 on first delivery. */
  readonly deliveryCount: number;
  readonly headers: MsgHdrs | undefined;
  readonly data: Uint8Array;
  /** The producer's trace context, to parent or link spans. */
  readonly traceContext: Context;
  /** Parses and validates the event (throws ContractError when it breaks its schema). */
  event(): TameFlareEvent;
  json<T = unknown>(): T;
  /** Done: the server will not deliver it again. */
  ack(): void;
  /** Failed for now: deliver again (after `delayMs`). */
  nak(delayMs?: number): void;
  /** Never deliver again (poison message). The reason reaches the server only from nats-server 2.10 on. */
  term(reason?: string): void;
  /** Still working: restart the ack-wait timer. */
  working(): void;
  readonly settled: boolean;
}

export type BatchHandler = (batch: ConsumedMessage[]) => Promise<void> | void;

export interface ConsumeOptions extends EnsureConsumerOptions {
  /** Largest batch handed to the handler (default 100). */
  batchSize?: number;
  /** Ack messages the handler left unsettled when it returns normally (default true). */
  autoAck?: boolean;
  /** Delay before redelivery of messages left unsettled when the handler throws (ms, default 1000). */
  nakDelayMs?: number;
  /**
   * A batch closes when no further message arrives within this time (ms, default 5). Closing on
   * time rather than on the server's pending count matters with several replicas: the count
   * never reaches 0 for one replica while another pulls the rest, and its last messages would
   * wait for the ack wait.
   */
  lingerMs?: number;
  /**
   * Batches handled at once (default 1). With 2, the next batch is pulled while the previous one
   * is handled; the handler must then be safe to run concurrently.
   */
  concurrency?: number;
  /** Called when the handler throws, instead of the default error log (the batch is nak'ed either way). */
  onError?: (err: unknown, size: number) => void;
  /**
   * Create the durable consumer with these settings if it does not exist yet (default true).
   * An existing consumer keeps its settings: use `ensureConsumer` to change them.
   */
  ensure?: boolean;
}

export interface ConsumerHandle {
  /**
   * Stops pulling, lets the batch in progress finish, and resolves when the loop has ended.
   * Messages already pulled but not yet handed over are redelivered after the ack wait.
   */
  stop(): Promise<void>;
  /** Resolves when the loop ends (stopped, or the connection closed). */
  readonly done: Promise<void>;
}

/**
 * Runs a shared durable pull consumer: every replica that calls this with the same durable
 * shares the messages. Messages are pulled `batchSize` at a time and handed over in batches
 * that close when full or when no message arrived for `lingerMs`, so a trickle is handled at
 * once and a backlog in full batches.
 */
const LINGER = Symbol('linger');

export async function consume(core: BusCore, ref: DurableConsumerRef, handler: BatchHandler, options: ConsumeOptions = {}): Promise<ConsumerHandle> {
  const batchSize = options.batchSize ?? 100;
  const autoAck = options.autoAck ?? true;
  const nakDelayMs = options.nakDelayMs ?? 1000;
  core.ensureConnected('consume', ref.filterSubject);
  if (options.ensure !== false) await ensureConsumer(core, ref, options, false);
  let messages: ConsumerMessages;
  try {
    const consumer = await core.js.consumers.get(ref.stream, ref.durable);
    messages = await consumer.consume({ max_messages: batchSize });
  } catch (err) {
    throw toMessagingError(err, 'consume', `${ref.stream}/${ref.durable}`);
  }

  // nats-server < 2.10 does not parse `+TERM <reason>` and would leave the message pending.
  const [major = 0, minor = 0] = (core.nc.info?.version ?? '0.0').split('.').map(Number);
  const termWithReason = major > 2 || (major === 2 && minor >= 10);

  const runBatch = async (batch: ConsumedMessage[]) => {
    const done = core.begin();
    const links = batch.map((m) => ({ context: trace.getSpanContext(m.traceContext)! })).filter((l) => l.context);
    const parent = batch.length === 1 ? batch[0]!.traceContext : context.active();
    const span = tracer.startSpan(`process ${ref.durable}`, { kind: SpanKind.CONSUMER, links }, parent);
    messagingAttributes(span, 'process', ref.filterSubject, { 'messaging.consumer.group.name': ref.durable, 'messaging.batch.message_count': batch.length });
    try {
      await context.with(trace.setSpan(parent, span), () => handler(batch));
      if (autoAck) for (const m of batch) if (!m.settled) m.ack();
    } catch (err) {
      failSpan(span, err);
      if (options.onError) options.onError(err, batch.length);
      else core.log?.error({ err, durable: ref.durable, size: batch.length }, 'batch handler failed; unsettled messages will be redelivered');
      for (const m of batch) if (!m.settled) m.nak(nakDelayMs);
    } finally {
      span.end();
      done();
    }
  };

  const lingerMs = options.lingerMs ?? 5;
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const running = new Set<Promise<void>>();
  const it = messages[Symbol.asyncIterator]();
  const done = (async () => {
    let next: Promise<IteratorResult<JsMsg>> | null = null;
    for (let ended = false; !ended; ) {
      next ??= it.next();
      const first = await next;
      next = null;
      if (first.done) return;
      const batch: ConsumedMessage[] = [wrap(first.value, termWithReason)];
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
        batch.push(wrap(r.value, termWithReason));
      }
      const work = runBatch(batch);
      running.add(work);
      void work.finally(() => running.delete(work));
      if (running.size >= concurrency) await Promise.race(running);
    }
  })()
    .catch((err) => core.log?.error({ err, durable: ref.durable }, 'consumer loop ended with an error'))
    .finally(() => Promise.all(running));

  const stop = async () => {
    messages.stop();
    await done;
  };
  core.register({ subject: ref.filterSubject, stop, closed: done });
  return { stop, done };
}

function wrap(jm: JsMsg, termWithReason: boolean): ConsumedMessage {
  let settled = false;
  let traceContext: Context | undefined;
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
      return (traceContext ??= extractTrace(jm.headers));
    },
    event: () => parseEvent(jm.data),
    json: <T>() => jm.json<T>(),
    ack: () => settle(() => jm.ack()),
    nak: (delayMs?: number) => settle(() => jm.nak(delayMs)),
    term: (reason?: string) => settle(() => (termWithReason ? jm.term(reason) : jm.term())),
    working: () => jm.working(),
    get settled() {
      return settled;
    },
  };
}
