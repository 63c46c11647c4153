/**
 * TameFlare's NATS layer: request/reply in queue groups with typed errors, JetStream events with
 * dedupe, shared durable consumers, KV with watches, and W3C trace context on every message.
 */
export { connectBus, type Bus } from './connect-bus.ts';
export {
  MessagingError,
  MessagingErrorCode,
  RemoteError,
  isMessagingError,
  isRemoteError,
  type MessagingErrorCodeValue,
} from './errors.ts';
export { ErrorHeaders } from './wire.ts';
export { formatTraceparent, extractTrace, TRACEPARENT, TRACESTATE } from './trace.ts';
export { currentTraceContext } from './trace-context.ts';
export type { ConsumedMessage, BatchHandler, ConsumeOptions, ConsumerHandle } from './consume.ts';
export type { KvBucket, KvValue } from './kv.ts';
export type { KvChange, KvWatch, WatchKvOptions } from './watch-kv.ts';
export type { DurableConsumerRef, EnsureBucketsOptions, EnsureConsumerOptions, EnsureStreamsOptions } from './streams.ts';
export type {
  BusEvent,
  BusLogger,
  BusOptions,
  BusState,
  BusStatus,
  CommandRef,
  Listener,
  MessageContext,
  PublishAck,
  RequestOptions,
  ServeHandler,
  ServeOptions,
} from './types.ts';
