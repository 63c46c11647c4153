import { Consumers } from '@tameflare/contracts';
import { createPostgresEventStore, isUnavailable, type PostgresEventStore } from '@tameflare/event-store';
import type { Bus } from '@tameflare/messaging';
import { createBatchRecorder } from './record-batch.ts';
import { migrateRejectedMessages } from './rejected-messages.ts';
import { startRelay, type Relay } from './relay.ts';

export interface RecorderLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface RecorderOptions {
  bus: Bus;
  databaseUrl: string;
  /** Event store schema (default `tf_events`). */
  eventStoreSchema?: string;
  /** Schema of the rejected-messages table (default `tf_recorder`). */
  recorderSchema?: string;
  /** Messages per JetStream fetch and per append (default 500). */
  batchSize?: number;
  /** How long a delivered message may stay unacked before JetStream redelivers it (default 10 s): the delay after a crash. */
  ackWaitMs?: number;
  /** Run the relay (default true). */
  relay?: boolean;
  instanceId: string;
  log: RecorderLogger;
  /** The recorder's readiness: false while the event store is unreachable. */
  setReady(ready: boolean, reason?: string): void;
  /** Ends the wait for the store at startup. */
  signal: AbortSignal;
}

export interface Recorder {
  readonly store: PostgresEventStore;
  readonly relay: Relay | undefined;
  /** Stops fetching and relaying; the batch in progress finishes. */
  stopAccepting(): Promise<void>;
  close(): Promise<void>;
}

const backoffMs = (failures: number) => Math.min(5000, 100 * 2 ** Math.min(failures - 1, 6));

/**
 * The recorder: JetStream `tf.evt.action.>` → event store (shared durable consumer, batched,
 * idempotent by event id), and the relay: event store → JetStream for every event that is not
 * hot-path. Any number of replicas may run; each message is stored once.
 */
export async function startRecorder(options: RecorderOptions): Promise<Recorder> {
  const { log, bus } = options;
  const recorderSchema = options.recorderSchema ?? 'tf_recorder';
  const batchSize = options.batchSize ?? 500;
  const store = createPostgresEventStore({
    connectionString: options.databaseUrl,
    schema: options.eventStoreSchema,
    applicationName: `tameflare-recorder@${options.instanceId}`.slice(0, 63),
    maxConnections: 6,
    onError: (err) => log.warn({ err }, 'a PostgreSQL connection of the event store failed'),
  });

  let storeUp = false;
  const onStore = (available: boolean, err?: unknown) => {
    if (available === storeUp) return;
    storeUp = available;
    if (available) {
      log.info({}, 'event store reachable');
      options.setReady(true);
    } else {
      log.warn({ err }, 'event store unavailable: not acking, messages will be redelivered');
      options.setReady(false, `event store unavailable: ${(err as Error)?.message ?? 'unknown'}`);
    }
  };

  // Wait for the store at startup instead of exiting: JetStream keeps the events meanwhile.
  options.setReady(false, 'waiting for the event store');
  for (let failures = 1; ; failures++) {
    try {
      await store.migrate();
      await migrateRejectedMessages(store.pool, recorderSchema);
      break;
    } catch (err) {
      if (!isUnavailable(err) || options.signal.aborted) {
        await store.close();
        throw err;
      }
      onStore(false, err);
      await new Promise((r) => setTimeout(r, backoffMs(failures)));
    }
  }
  onStore(true);
  options.setReady(true);

  await bus.ensureStreams();
  const ref = Consumers.recorder;
  const handler = createBatchRecorder({ store, recorderSchema, stream: ref.stream, log, onStore, backoffMs });
  const consumer = await bus.consume(ref, handler, {
    batchSize,
    // The handler settles every message itself; what it leaves is redelivered after the ack wait.
    autoAck: false,
    nakDelayMs: 500,
    // The next batch is validated while the previous one is appended (appendIdempotent is safe concurrently).
    concurrency: 2,
    ackWaitMs: options.ackWaitMs ?? 10_000,
    maxAckPending: Math.max(1000, batchSize * 8),
    // Unavailability is already reported once by onStore; anything else is logged per batch.
    onError: (err, size) => {
      if (!isUnavailable(err)) log.error({ err, size }, 'recording a batch failed; it will be redelivered');
    },
  });

  // Readiness also follows the store when no message is flowing.
  const probe = setInterval(() => {
    store.pool.query('SELECT 1').then(
      () => onStore(true),
      (err) => onStore(false, err),
    );
  }, 2000);
  probe.unref();

  const relay =
    options.relay === false
      ? undefined
      : startRelay({ store, publishEvents: (events) => bus.publishEvents(events), batchSize, log, backoffMs });

  let stopping: Promise<void> | null = null;
  const stopAccepting = () =>
    (stopping ??= (async () => {
      clearInterval(probe);
      await consumer.stop();
      await relay?.stop();
    })());
  return {
    store,
    relay,
    stopAccepting,
    async close() {
      await stopAccepting();
      await store.close();
    },
  };
}
