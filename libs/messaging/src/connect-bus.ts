import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { connect, errors as natsErrors, type NatsConnection } from '@nats-io/transport-node';
import type { TameFlareEvent } from '@tameflare/contracts';
import { consume, type BatchHandler, type ConsumeOptions, type ConsumerHandle } from './consume.ts';
import { MessagingError, MessagingErrorCode, toMessagingError, unavailable } from './errors.ts';
import { openBucket, type KvBucket } from './kv.ts';
import { publish, publishEvent, publishEvents } from './publish-event.ts';
import { request } from './request.ts';
import { createRequestMux } from './request-mux.ts';
import { serve, subscribe } from './serve.ts';
import {
  ensureBuckets,
  ensureConsumer,
  ensureStreams,
  type DurableConsumerRef,
  type EnsureBucketsOptions,
  type EnsureConsumerOptions,
  type EnsureStreamsOptions,
} from './streams.ts';
import type {
  BusCore,
  BusEvent,
  BusOptions,
  BusState,
  BusStatus,
  CommandRef,
  Listener,
  PublishAck,
  RequestOptions,
  ServeHandler,
  ServeOptions,
} from './types.ts';
import { watchKv, type KvWatch, type WatchKvOptions } from './watch-kv.ts';

/** A connection to NATS with TameFlare's conventions: JSON, trace context, typed errors. */
export interface Bus {
  /** The underlying nats.js connection, for what this API does not cover. */
  readonly nc: NatsConnection;
  readonly name: string;
  status(): BusStatus;
  /** Subscribes to connection changes; returns the unsubscribe function. */
  onEvent(listener: (e: BusEvent) => void): () => void;
  /** Sends a JSON request to a command (or subject) and returns the JSON reply. */
  request<T = unknown>(target: string | CommandRef, payload: unknown, options?: RequestOptions): Promise<T>;
  /** Answers requests in a queue group. Resolves once the server has accepted the subscription. */
  serve<Req = any, Res = any>(options: ServeOptions, handler: ServeHandler<Req, Res>): Promise<Listener>;
  /** Core NATS subscription (no durability) with trace extraction. */
  subscribe<T = any>(subject: string, handler: ServeHandler<T, unknown>, options?: { queue?: string; decode?: (p: unknown) => T }): Promise<Listener>;
  /** Core NATS fire-and-forget publish with trace headers. */
  publish(subject: string, payload: unknown, headers?: Record<string, string>): void;
  /** JetStream publish of one event, acked (its durability point). */
  publishEvent(event: TameFlareEvent): Promise<PublishAck>;
  /** JetStream publish of several events, pipelined, acks in order. */
  publishEvents(events: readonly TameFlareEvent[]): Promise<PublishAck[]>;
  ensureStreams(options?: EnsureStreamsOptions): Promise<void>;
  ensureBuckets(options?: EnsureBucketsOptions): Promise<void>;
  ensureConsumer(ref: DurableConsumerRef, options?: EnsureConsumerOptions): Promise<void>;
  /** Runs a shared durable pull consumer, handing messages over in batches. */
  consume(ref: DurableConsumerRef, handler: BatchHandler, options?: ConsumeOptions): Promise<ConsumerHandle>;
  kv(bucket: string): Promise<KvBucket>;
  watchKv<T = unknown>(bucket: string, options?: WatchKvOptions<T>): Promise<KvWatch<T>>;
  /** Handlers and batches running right now. */
  inFlight(): number;
  /** Stops every responder, subscriber and consumer of this bus (work already received still completes). */
  stopListening(): Promise<void>;
  /** Resolves true when no handler is running, or false after `timeoutMs`. */
  whenIdle(timeoutMs: number): Promise<boolean>;
  /** Flushes what was published, then closes. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Connects to NATS. Fails with `TF_ERR_NATS_UNAVAILABLE` when the server cannot be reached
 * within `connectTimeoutMs` (unless `waitOnFirstConnect`), or `TF_ERR_NATS_PERMISSION_DENIED`
 * when it refuses the credentials.
 */
export async function connectBus(options: BusOptions): Promise<Bus> {
  const servers = options.servers;
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers,
      name: options.name,
      ...(options.user !== undefined ? { user: options.user, pass: options.pass ?? '' } : {}),
      ...(options.token !== undefined ? { token: options.token } : {}),
      ...(options.inboxPrefix ? { inboxPrefix: options.inboxPrefix } : {}),
      timeout: options.connectTimeoutMs ?? 5000,
      waitOnFirstConnect: options.waitOnFirstConnect ?? false,
      maxReconnectAttempts: -1,
      reconnectTimeWait: options.reconnectTimeWaitMs ?? 250,
      reconnectJitter: 100,
      pingInterval: options.pingIntervalMs ?? 5000,
      maxPingOut: 2,
      // Stack capture on every request costs an allocation per call; errors carry subject and code.
      noAsyncTraces: true,
    });
  } catch (err) {
    const name = (err as Error)?.name;
    const code = name === 'AuthorizationError' || name === 'UserAuthenticationExpiredError' ? MessagingErrorCode.PermissionDenied : MessagingErrorCode.Unavailable;
    throw new MessagingError(code, `cannot connect to NATS at ${String(servers)}: ${(err as Error)?.message ?? err}`, {
      cause: err,
      details: { servers: Array.isArray(servers) ? servers : [servers] },
    });
  }

  let state: BusState = 'connected';
  let disconnectedAt = 0;
  let reconnects = 0;
  let server: string | undefined = nc.getServer();
  let inFlight = 0;
  let idleWaiters: (() => void)[] = [];
  const listeners = new Set<Listener>();
  const eventListeners = new Set<(e: BusEvent) => void>();
  const kvCache = new Map<string, Promise<KV>>();
  let jsmPromise: Promise<JetStreamManager> | undefined;
  const emit = (e: BusEvent) => {
    for (const l of eventListeners) {
      try {
        l(e);
      } catch (err) {
        options.logger?.warn({ err }, 'bus event listener failed');
      }
    }
  };

  const mux = createRequestMux(nc, options.inboxPrefix);
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'error' && s.error instanceof natsErrors.PermissionViolationError && s.error.operation === 'publish') {
        mux.failSubject(s.error.subject, s.error);
        continue;
      }
      if (s.type === 'disconnect') {
        if (state === 'connected') {
          state = 'disconnected';
          disconnectedAt = Date.now();
          server = s.server;
          options.logger?.warn({ server: s.server }, 'NATS disconnected');
          emit({ type: 'disconnected', server: s.server });
        }
      } else if (s.type === 'reconnect') {
        if (state === 'disconnected') state = 'connected';
        reconnects++;
        server = s.server;
        options.logger?.info?.({ server: s.server }, 'NATS reconnected');
        emit({ type: 'reconnected', server: s.server });
      }
    }
  })().catch(() => undefined);
  void nc.closed().then((err) => {
    mux.failAll(new natsErrors.ClosedConnectionError());
    if (state !== 'closed') {
      if (state === 'connected') disconnectedAt = Date.now();
      state = 'closed';
      emit(err ? { type: 'closed', error: err } : { type: 'closed' });
    }
  });

  const js = jetstream(nc, { timeout: options.ackTimeoutMs ?? 5000 });
  const core: BusCore = {
    nc,
    js,
    kvm: new Kvm(js),
    mux,
    jsm: () => {
      jsmPromise ??= jetstreamManager(nc, { timeout: options.ackTimeoutMs ?? 5000 });
      jsmPromise.catch(() => (jsmPromise = undefined));
      return jsmPromise;
    },
    options: { ...options, requestTimeoutMs: options.requestTimeoutMs ?? 2000, ackTimeoutMs: options.ackTimeoutMs ?? 5000 },
    ensureConnected: (operation, subject) => {
      if (state === 'connected') return;
      if (state === 'closed') {
        throw new MessagingError(MessagingErrorCode.Closed, `${operation} ${subject}: the NATS connection is closed`, { details: { operation, subject } });
      }
      throw unavailable(operation, subject, state);
    },
    begin: () => {
      inFlight++;
      let ended = false;
      return () => {
        if (ended) return;
        ended = true;
        inFlight--;
        if (inFlight === 0 && idleWaiters.length) {
          const w = idleWaiters;
          idleWaiters = [];
          for (const f of w) f();
        }
      };
    },
    register: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    log: options.logger,
  };

  const stopListening = async () => {
    const all = [...listeners];
    listeners.clear();
    await Promise.all(all.map((l) => l.stop().catch(() => undefined)));
  };

  return {
    nc,
    name: options.name,
    status: () => ({
      state,
      msSinceContact: state === 'connected' || state === 'draining' ? 0 : Date.now() - disconnectedAt,
      server,
      reconnects,
    }),
    onEvent: (l) => {
      eventListeners.add(l);
      return () => eventListeners.delete(l);
    },
    request: (target, payload, opts) => request(core, target, payload, opts),
    serve: (opts, handler) => serve(core, opts, handler as ServeHandler),
    subscribe: (subject, handler, opts) => subscribe(core, subject, handler as ServeHandler, opts),
    publish: (subject, payload, headers) => publish(core, subject, payload, headers),
    publishEvent: (event) => publishEvent(core, event),
    publishEvents: (events) => publishEvents(core, events),
    ensureStreams: (opts) => ensureStreams(core, opts),
    ensureBuckets: (opts) => ensureBuckets(core, opts),
    ensureConsumer: (ref, opts) => ensureConsumer(core, ref, opts),
    consume: (ref, handler, opts) => consume(core, ref, handler, opts),
    kv: (bucket) => openBucket(core, bucket, kvCache),
    watchKv: (bucket, opts) =>
      watchKv(
        core,
        bucket,
        () => core.kvm.open(bucket),
        (l) => {
          eventListeners.add(l);
          return () => eventListeners.delete(l);
        },
        opts,
      ),
    inFlight: () => inFlight,
    stopListening,
    whenIdle: (timeoutMs) => {
      if (inFlight === 0) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const t = setTimeout(() => {
          idleWaiters = idleWaiters.filter((f) => f !== done);
          resolve(false);
        }, timeoutMs);
        const done = () => {
          clearTimeout(t);
          resolve(true);
        };
        idleWaiters.push(done);
      });
    },
    drain: async () => {
      if (state === 'closed') return;
      await stopListening();
      state = 'draining';
      try {
        await nc.drain();
      } catch (err) {
        if (!nc.isClosed()) throw toMessagingError(err, 'drain', options.name);
      }
    },
    close: async () => {
      if (nc.isClosed()) return;
      await nc.close();
    },
  };
}
