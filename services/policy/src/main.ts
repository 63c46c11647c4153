/**
 * The policy process: `node services/policy/src/main.ts`.
 *
 * Settings (environment, or the file named by TF_CONFIG_FILE): the service-kit base (TF_NATS_*,
 * TF_HEALTH_*, TF_INSTANCE_ID, TF_LOG_LEVEL) and TF_DATABASE_URL (the event store holding the
 * `policy-<gateway>` streams). Run as many replicas as needed: they share `tf.cmd.policy.*` in
 * queue group `policy` and session state in KV `tf_sessions`.
 */
import { Type } from '@sinclair/typebox';
import { DatabaseConfigSchema } from '@tameflare/config';
import { createPostgresEventStore } from '@tameflare/event-store';
import { isMessagingError } from '@tameflare/messaging';
import { runService } from '@tameflare/service-kit';
import { startPolicyService } from './policy-service.ts';

await runService({
  name: 'policy',
  configSchema: Type.Object({ database: DatabaseConfigSchema }),
  async start(ctx) {
    const store = createPostgresEventStore({
      connectionString: ctx.config.database.url,
      applicationName: 'tameflare-policy',
      onError: (err) => ctx.logger.warn({ err }, 'idle PostgreSQL connection failed'),
    });
    ctx.onShutdown(() => store.close());
    await store.migrate();
    await ctx.bus.ensureStreams();
    try {
      await ctx.bus.ensureBuckets();
    } catch (err) {
      // Under the NATS permission matrix the policy user may not create other services' buckets
      // (refused, or unanswered); they exist once the control plane (or `tf up`) has started,
      // and the KV watches below fail the start clearly if one is still missing.
      if (!isMessagingError(err)) throw err;
      ctx.logger.warn({ err }, 'could not create every KV bucket; expecting them to exist');
    }
    const service = await startPolicyService({ bus: ctx.bus, store, instanceId: ctx.instanceId, logger: ctx.logger });
    ctx.onShutdown(() => service.stop());
    service.registry.onSwap((gatewayId, snapshot) =>
      ctx.logger.info({ gatewayId, version: snapshot?.version ?? null, error: snapshot?.error ?? null }, 'policy bundle switched'),
    );
    return { stopAccepting: () => service.stop() };
  },
});
