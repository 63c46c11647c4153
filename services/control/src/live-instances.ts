import { Buckets, type InstanceEntry } from '@tameflare/contracts';
import type { Bus, KvWatch } from '@tameflare/messaging';
import { decodeInstance } from './payloads.ts';

/** The ingress replicas alive right now, from KV `tf_instances` (heartbeats with a TTL). */
export interface LiveInstances {
  /** Ingress instance ids with a heartbeat younger than the bucket TTL. */
  ingress(): string[];
  stop(): Promise<void>;
}

/**
 * Watches `tf_instances`. The bucket's TTL removes entries on the server without telling
 * watchers, so entries older than `ttlMs` are dropped here too (`expireAfterMs`).
 */
export async function watchLiveInstances(bus: Bus, options: { ttlMs: number; onInvalid?: (key: string, err: unknown) => void }): Promise<LiveInstances> {
  const watch: KvWatch<InstanceEntry> = await bus.watchKv<InstanceEntry>(Buckets.instances, {
    decode: (v) => decodeInstance(v),
    expireAfterMs: options.ttlMs,
    onInvalid: (err, key) => options.onInvalid?.(key, err),
  });
  await watch.ready;
  return {
    ingress: () => [...watch.values.values()].filter((e) => e.service === 'ingress').map((e) => e.ingressId).sort(),
    stop: () => watch.stop(),
  };
}
