import { Repeater } from 'graphql-yoga';
import { validateEvent, type TameFlareEvent } from '@tameflare/contracts';
import type { Bus } from '@tameflare/messaging';

export interface EventStreamLog {
  warn(obj: object, msg?: string): void;
}

/**
 * Live events on a core NATS subject as an async iterator for a GraphQL subscription. Each
 * message is validated against the event catalog (anything else is dropped and logged); the NATS
 * subscription ends when the client goes away. At most `buffer` events wait for a slow client;
 * beyond that the oldest are dropped, so one slow subscriber never grows the process without bound.
 */
export function natsEvents(bus: Bus, subject: string, accept: (e: TameFlareEvent) => boolean, log?: EventStreamLog, buffer = 1000): AsyncIterableIterator<TameFlareEvent> {
  return new Repeater<TameFlareEvent>(async (push, stop) => {
    const queue: TameFlareEvent[] = [];
    let draining = false;
    const drain = async () => {
      if (draining) return;
      draining = true;
      while (queue.length > 0) await push(queue.shift()!);
      draining = false;
    };
    const listener = await bus.subscribe(subject, (payload: unknown) => {
      let event: TameFlareEvent;
      try {
        event = validateEvent(payload);
      } catch (err) {
        log?.warn({ subject, err: (err as Error).message }, 'dropped a message that is not a valid event');
        return;
      }
      if (!accept(event)) return;
      if (queue.length >= buffer) queue.shift();
      queue.push(event);
      void drain();
    });
    await stop;
    await listener.stop();
  });
}
