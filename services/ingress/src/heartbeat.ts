import { Buckets, type InstanceEntry } from '@tameflare/contracts';
import type { Bus } from '@tameflare/messaging';

/**
 * Keeps this replica's entry in KV `tf_instances` fresh, so the control service knows how many
 * replicas must acknowledge a kill switch. The bucket's TTL removes a replica that stops beating.
 */
export async function startHeartbeat(
  bus: Bus,
  options: { ingressId: string; proxyUrl: string; intervalMs: number; log: { warn(o: object, m: string): void } },
): Promise<{ stop(): Promise<void> }> {
  const kv = await bus.kv(Buckets.instances);
  const startedAt = new Date().toISOString();
  const beat = async () => {
    const entry: InstanceEntry = {
      ingressId: options.ingressId,
      service: 'ingress',
      startedAt,
      heartbeatAt: new Date().toISOString(),
      proxyUrl: options.proxyUrl,
    };
    await kv.put(options.ingressId, entry);
  };
  await beat();
  const timer = setInterval(() => {
    beat().catch((err: unknown) => options.log.warn({ err }, 'heartbeat not written'));
  }, options.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await kv.delete(options.ingressId).catch(() => undefined);
    },
  };
}
