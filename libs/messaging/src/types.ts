import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { Kvm } from '@nats-io/kv';
import type { MsgHdrs, NatsConnection } from '@nats-io/transport-node';
import type { TameFlareEvent } from '@tameflare/contracts';
import type { RequestMux } from './request-mux.ts';

/** The minimal logger the bus reports to (pino's signature). */
export interface BusLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  info?(obj: object, msg?: string): void;
}

/** Options for {@link connectBus}. */
export interface BusOptions {
  /** `nats://host:port`, or several for a cluster. */
  servers: string | string[];
  /** Connection name shown by the server, e.g. `policy@host-1`. */
  name: string;
  user?: string;
  pass?: string;
  token?: string;
  /**
   * Prefix of this connection's reply inboxes. With per-service NATS users each user may only
   * read its own inboxes: pass `inboxPrefixFor(user)` from @tameflare/contracts.
   */
  inboxPrefix?: string;
  /** Default time a request waits for its reply (ms, default 2000). */
  requestTimeoutMs?: number;
  /** Time a JetStream publish waits for its ack (ms, default 5000). */
  ackTimeoutMs?: number;
  /** How long the first connect may take before it fails (ms, default 5000). */
  connectTimeoutMs?: number;
  /**
   * Keep retrying the first connect instead of failing (default false). Reconnects after a
   * successful connect are always retried forever.
   */
  waitOnFirstConnect?: boolean;
  /** Client ping interval (ms, default 5000): a hung server is noticed within ~2 intervals. */
  pingIntervalMs?: number;
  /** Wait between reconnect attempts (ms, default 250). */
  reconnectTimeWaitMs?: number;
  /** Where handler failures and connection changes are reported. */
  logger?: BusLogger;
}

/** A request/reply command: subject and the queue group its responders share. */
export interface CommandRef {
  readonly subject: string;
  readonly queue: string;
}

/** Connection state as far as a service deciding to fail closed is concerned. */
export type BusState = 'connected' | 'disconnected' | 'draining' | 'closed';

export interface BusStatus {
  state: BusState;
  /** Milliseconds since the server was last known reachable; 0 while connected. */
  msSinceContact: number;
  /** The server this connection talks to (or last talked to). */
  server: string | undefined;
  /** Reconnects since the bus was created. */
  reconnects: number;
}

export type BusEvent = { type: 'disconnected'; server: string } | { type: 'reconnected'; server: string } | { type: 'closed'; error?: Error };

/** What a handler learns about the message it is processing. */
export interface MessageContext {
  subject: string;
  /** Headers as received (read-only use). */
  headers: MsgHdrs | undefined;
  /** The `traceparent` of the handler's own span, for `createEvent({ traceparent })`. */
  traceparent: string | undefined;
}

export interface ServeOptions {
  subject: string;
  /** Queue group: every replica in the same group shares the load; one answers each request. */
  queue: string;
  /** Validates and types the request payload; throw a TameFlareError to refuse it. */
  decode?: (payload: unknown) => unknown;
}

export type ServeHandler<Req = any, Res = any> = (payload: Req, ctx: MessageContext) => Res | Promise<Res>;

/** A responder or subscriber: `stop()` drains it (in-flight messages are still handled). */
export interface Listener {
  readonly subject: string;
  stop(): Promise<void>;
  /** Resolves when the listener is closed (stopped, or the connection closed). */
  readonly closed: Promise<void>;
}

export interface RequestOptions {
  timeoutMs?: number;
  /** Extra headers (`Tf-*`); trace headers are added by the bus. */
  headers?: Record<string, string>;
}

/** The JetStream acknowledgement of a published event. */
export interface PublishAck {
  stream: string;
  seq: number;
  /** True when the stream had already stored an event with this id (dedupe window). */
  duplicate: boolean;
}

/** Internal view shared by the operation modules. */
export interface BusCore {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly kvm: Kvm;
  readonly mux: RequestMux;
  jsm(): Promise<JetStreamManager>;
  readonly options: Required<Pick<BusOptions, 'requestTimeoutMs' | 'ackTimeoutMs'>> & BusOptions;
  /** Throws a typed Unavailable/Closed error unless connected. */
  ensureConnected(operation: string, subject: string): void;
  /** Counts a unit of work as in flight until it settles. */
  begin(): () => void;
  /** Registers a listener so shutdown can drain it. */
  register(l: Listener): () => void;
  readonly log: BusLogger | undefined;
}

export type { TameFlareEvent };
