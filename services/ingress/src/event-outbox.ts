import { isTameFlareError, type TameFlareEvent } from '@tameflare/contracts';
import type { Bus } from '@tameflare/messaging';
import type { ProxyLogger } from '@tameflare/proxy';

/** Codes after which a publish is worth retrying: the event was fine, NATS was not. */
const TRANSIENT = new Set(['TF_ERR_NATS_TIMEOUT', 'TF_ERR_NATS_UNAVAILABLE', 'TF_ERR_JETSTREAM_NOT_ACKED', 'TF_ERR_NATS_NO_RESPONDERS', 'TF_ERR_JETSTREAM']);

export interface EventOutbox {
  /**
   * Publishes an event and resolves on its JetStream ack; rejects at once when the first attempt
   * fails, so the request path can fail closed. A failed event is also kept and re-published in
   * the background until JetStream acks it, so an action the agent saw answered while NATS was
   * away still reaches the audit when NATS is back. The event id is the JetStream message id
   * and the event store's key, so a retry of an event that did land is recorded once.
   */
  record(event: TameFlareEvent): Promise<void>;
  /** Events waiting for a retry. */
  pending(): number;
  /** Retries what is pending for up to `graceMs`, then stops; returns how many were left. */
  flush(graceMs: number): Promise<number>;
}

export interface EventOutboxOptions {
  log: ProxyLogger;
  /** Most events kept for retry; past it the oldest are dropped, loudly. */
  maxPending?: number;
  minDelayMs?: number;
  maxDelayMs?: number;
}

export function createEventOutbox(bus: Pick<Bus, 'publishEvent'>, options: EventOutboxOptions): EventOutbox {
  const { log } = options;
  const maxPending = options.maxPending ?? 100_000;
  const minDelay = options.minDelayMs ?? 250;
  const maxDelay = options.maxDelayMs ?? 5000;
  const queue: TameFlareEvent[] = [];
  let delay = minDelay;
  let timer: NodeJS.Timeout | null = null;
  let draining: Promise<void> | null = null;
  let closed = false;

  const keep = (event: TameFlareEvent) => {
    if (queue.length >= maxPending) {
      const dropped = queue.shift()!;
      log.error({ eventId: dropped.id, type: dropped.type, maxPending }, 'event outbox full: the oldest unrecorded event is dropped');
    }
    queue.push(event);
    schedule();
  };

  const schedule = () => {
    if (timer || draining || closed || queue.length === 0) return;
    timer = setTimeout(() => {
      timer = null;
      void drain();
    }, delay);
    timer.unref();
  };

  const drain = (): Promise<void> =>
    (draining ??= (async () => {
      try {
        while (queue.length > 0) {
          const event = queue[0]!;
          try {
            await bus.publishEvent(event);
          } catch (err) {
            if (!isTameFlareError(err) || !TRANSIENT.has(err.code)) {
              queue.shift();
              log.error({ err, eventId: event.id, type: event.type }, 'event refused for good; not retried');
              continue;
            }
            delay = Math.min(maxDelay, delay * 2);
            return;
          }
          queue.shift();
          delay = minDelay;
        }
        log.info({}, 'event outbox drained: every event held during the outage is recorded');
      } finally {
        draining = null;
        schedule();
      }
    })());

  return {
    async record(event) {
      try {
        await bus.publishEvent(event);
      } catch (err) {
        if (isTameFlareError(err) && TRANSIENT.has(err.code)) keep(event);
        throw err;
      }
    },
    pending: () => queue.length,
    async flush(graceMs) {
      const deadline = Date.now() + graceMs;
      while (queue.length > 0 && Date.now() < deadline) {
        if (timer) {
          clearTimeout(timer);
          timer = null;
        }
        await drain();
        if (queue.length > 0) await new Promise((r) => setTimeout(r, Math.min(250, Math.max(0, deadline - Date.now()))));
      }
      closed = true;
      if (timer) clearTimeout(timer);
      if (queue.length > 0) log.error({ left: queue.length }, 'stopping with events the event store never received');
      return queue.length;
    },
  };
}
