/**
 * The ingress process: `node services/ingress/src/main.ts`.
 *
 * Settings (environment, or the file named by TF_CONFIG_FILE): the service-kit base (TF_NATS_*,
 * TF_HEALTH_*, TF_INSTANCE_ID, TF_LOG_LEVEL) and TF_INGRESS_* (docs/ingress.md). Run as many
 * replicas as needed behind one address: each is stateless apart from its caches, and its
 * instance id is on every event it records.
 */
import { Type } from '@sinclair/typebox';
import { isMessagingError, MessagingErrorCode } from '@tameflare/messaging';
import { runService } from '@tameflare/service-kit';
import { IngressSettingsSchema } from './config.ts';
import { startIngress } from './ingress.ts';

const SHUTDOWN_MS = 10_000;

await runService({
  name: 'ingress',
  configSchema: Type.Object({ ingress: IngressSettingsSchema }),
  shutdownTimeoutMs: SHUTDOWN_MS,
  async start(ctx) {
    await ctx.bus.ensureStreams();
    try {
      await ctx.bus.ensureBuckets();
    } catch (err) {
      // Under the NATS permission matrix the ingress may not create buckets; the control plane has.
      if (!isMessagingError(err, MessagingErrorCode.JetStream) && !isMessagingError(err, MessagingErrorCode.PermissionDenied)) throw err;
      ctx.logger.warn({ err }, 'could not create every KV bucket; expecting them to exist');
    }
    const ingress = await startIngress({ bus: ctx.bus, settings: ctx.config.ingress, ingressId: ctx.instanceId, logger: ctx.logger });
    ctx.onShutdown(() => ingress.stop(0));
    return { stopAccepting: () => ingress.stop(SHUTDOWN_MS) };
  },
});
