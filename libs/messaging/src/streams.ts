import { AckPolicy, DeliverPolicy, JetStreamApiError, RetentionPolicy, StorageType, type ConsumerConfig, type StreamConfig } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { Buckets, Streams } from '@tameflare/contracts';
import { toMessagingError } from './errors.ts';
import type { BusCore } from './types.ts';

export interface EnsureStreamsOptions {
  /** How long TF_EVENTS keeps events (ms). 0 (default) keeps them until limits say otherwise. */
  maxAgeMs?: number;
  /** Window in which a re-published event id is recognised as a duplicate (ms, default 2 min). */
  duplicateWindowMs?: number;
  /**
   * Replicas in a NATS cluster (default 1 when the stream is created). When not given, an
   * existing stream keeps its replica count: services call this at every start without knowing
   * the cluster size, and must not shrink a stream an operator replicated.
   */
  replicas?: number;
}

/**
 * Creates the TF_EVENTS stream (file storage, limits retention) or brings an existing one to
 * the given settings. Safe to call from every replica at every start.
 */
export async function ensureStreams(core: BusCore, options: EnsureStreamsOptions = {}): Promise<void> {
  const { name, subjects } = Streams.events;
  const wanted: Partial<StreamConfig> & { name: string } = {
    name,
    subjects: [...subjects],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    max_age: nanos(options.maxAgeMs ?? 0),
    duplicate_window: nanos(options.duplicateWindowMs ?? 120_000),
    num_replicas: options.replicas ?? 1,
  };
  try {
    const jsm = await core.jsm();
    let current: StreamConfig | undefined;
    try {
      current = (await jsm.streams.info(name)).config;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (!current) {
      try {
        await jsm.streams.add(wanted);
        return;
      } catch (err) {
        // Another replica created it between our info and add.
        current = (await jsm.streams.info(name)).config;
        if (!current) throw err;
      }
    }
    if (options.replicas === undefined) delete wanted.num_replicas;
    const differs = (Object.keys(wanted) as (keyof StreamConfig)[]).some((k) => JSON.stringify(current![k]) !== JSON.stringify(wanted[k]));
    if (differs) await jsm.streams.update(name, { ...current, ...wanted });
  } catch (err) {
    throw toMessagingError(err, 'ensureStreams', name);
  }
}

export interface EnsureBucketsOptions {
  /** Lifetime of an entry in `tf_instances` without a heartbeat (ms, default 15 s). */
  instancesTtlMs?: number;
  replicas?: number;
}

/** Creates every KV bucket in `Buckets` (file storage, last value per key). Idempotent. */
export async function ensureBuckets(core: BusCore, options: EnsureBucketsOptions = {}): Promise<void> {
  const ttlMs = options.instancesTtlMs ?? 15_000;
  for (const bucket of Object.values(Buckets)) {
    const ttl = bucket === Buckets.instances ? ttlMs : 0;
    try {
      await core.kvm.create(bucket, { history: 1, storage: StorageType.File, replicas: options.replicas ?? 1, ...(ttl ? { ttl } : {}) });
      if (ttl) {
        const jsm = await core.jsm();
        const info = await jsm.streams.info(`KV_${bucket}`);
        if (info.config.max_age !== nanos(ttl)) await jsm.streams.update(info.config.name, { ...info.config, max_age: nanos(ttl) });
      }
    } catch (err) {
      throw toMessagingError(err, 'ensureBuckets', bucket);
    }
  }
}

/** A durable pull consumer, as listed in `Consumers` from @tameflare/contracts. */
export interface DurableConsumerRef {
  readonly stream: string;
  readonly durable: string;
  /** One subject (nats-server 2.9 has no `filter_subjects`). */
  readonly filterSubject: string;
}

export interface EnsureConsumerOptions {
  /** Time a delivered message may stay unacked before redelivery (ms, default 30 s). */
  ackWaitMs?: number;
  /** Deliveries before the server gives up on a message (default -1: forever). */
  maxDeliver?: number;
  /** Messages delivered but not yet acked, across all replicas (default 1000). */
  maxAckPending?: number;
}

/**
 * Creates a durable, explicitly acked pull consumer that starts at the stream's beginning, or
 * updates an existing one to these settings (unless `updateExisting` is false).
 */
export async function ensureConsumer(core: BusCore, ref: DurableConsumerRef, options: EnsureConsumerOptions = {}, updateExisting = true): Promise<void> {
  const config: Partial<ConsumerConfig> = {
    durable_name: ref.durable,
    filter_subject: ref.filterSubject,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(options.ackWaitMs ?? 30_000),
    max_deliver: options.maxDeliver ?? -1,
    max_ack_pending: options.maxAckPending ?? 1000,
  };
  try {
    const jsm = await core.jsm();
    let exists = false;
    try {
      await jsm.consumers.info(ref.stream, ref.durable);
      exists = true;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (exists && updateExisting) {
      await jsm.consumers.update(ref.stream, ref.durable, {
        ack_wait: config.ack_wait!,
        max_deliver: config.max_deliver!,
        max_ack_pending: config.max_ack_pending!,
      });
    } else if (!exists) {
      await jsm.consumers.add(ref.stream, config);
    }
  } catch (err) {
    throw toMessagingError(err, 'ensureConsumer', `${ref.stream}/${ref.durable}`);
  }
}

function isNotFound(err: unknown): boolean {
  return (err instanceof JetStreamApiError && err.status === 404) || /not found/i.test((err as Error)?.message ?? '');
}
