/**
 * The control process: `node services/control/src/main.ts`.
 *
 * Settings (environment, or the file named by TF_CONFIG_FILE): the service-kit base (TF_NATS_*,
 * TF_HEALTH_*, TF_INSTANCE_ID, TF_LOG_LEVEL), TF_DATABASE_URL (the event store),
 * TF_CONTROL_ACK_TIMEOUT (longest wait for kill-switch acknowledgements, default 2s),
 * TF_CONTROL_INSTANCES_TTL (the `tf_instances` TTL, default 15s). Replicas share
 * `tf.cmd.control.*` in queue group `control`. The KV buckets must exist (`tf up` creates them).
 */
import { Type } from '@sinclair/typebox';
import { DatabaseConfigSchema, Duration } from '@tameflare/config';
import { createPostgresEventStore } from '@tameflare/event-store';
import { runService } from '@tameflare/service-kit';
import { startControlService } from './control-service.ts';

await runService({
  name: 'control',
  configSchema: Type.Object({
    database: DatabaseConfigSchema,
    control: Type.Object({
      ackTimeout: Duration({ default: 2000, minimum: 10 }),
      instancesTtl: Duration({ default: 15_000, minimum: 1000 }),
    }),
  }),
  async start(ctx) {
    const store = createPostgresEventStore({
      connectionString: ctx.config.database.url,
      applicationName: 'tameflare-control',
      onError: (err) => ctx.logger.warn({ err }, 'idle PostgreSQL connection failed'),
    });
    ctx.onShutdown(() => store.close());
    await store.migrate();
    const service = await startControlService({
      bus: ctx.bus,
      store,
      instanceId: ctx.instanceId,
      logger: ctx.logger,
      ackTimeoutMs: ctx.config.control.ackTimeout,
      instancesTtlMs: ctx.config.control.instancesTtl,
    });
    ctx.onShutdown(() => service.stop());
    return { stopAccepting: () => service.stop() };
  },
});
