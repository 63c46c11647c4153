/**
 * The projector process: `node services/projector/src/main.ts`.
 *
 * Settings (environment, or the file named by TF_CONFIG_FILE): the service-kit base (TF_NATS_*,
 * TF_HEALTH_*, TF_INSTANCE_ID, TF_LOG_LEVEL), TF_DATABASE_URL, TF_EVENT_STORE_SCHEMA (default
 * tf_events), TF_PROJECTOR_STATE_DIR (the chain signing key; default ./.tameflare/state),
 * TF_PROJECTOR_PROCESSORS (read-models,chain), TF_PROJECTOR_BATCH_SIZE (default 1000),
 * TF_PROJECTOR_SIGN_EVERY_EVENTS (default 10000), TF_PROJECTOR_SIGN_EVERY (default 60s).
 */
import { Type } from '@sinclair/typebox';
import { DatabaseConfigSchema, Duration } from '@tameflare/config';
import { runService } from '@tameflare/service-kit';
import { startProjector, type ProcessorName } from './projector.ts';

const ProjectorConfigSchema = Type.Object({
  database: DatabaseConfigSchema,
  eventStore: Type.Object({ schema: Type.String({ pattern: '^[a-z_][a-z0-9_]{0,47}$', default: 'tf_events', description: 'a lowercase SQL identifier' }) }),
  projector: Type.Object({
    stateDir: Type.String({ minLength: 1, default: '.tameflare/state' }),
    processors: Type.Array(Type.Union([Type.Literal('read-models'), Type.Literal('chain')]), { minItems: 1, default: ['read-models', 'chain'] }),
    batchSize: Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 }),
    signEveryEvents: Type.Integer({ minimum: 1, default: 10_000 }),
    signEvery: Duration({ default: 60_000, minimum: 1000 }),
  }),
});

await runService({
  name: 'projector',
  configSchema: ProjectorConfigSchema,
  async start(ctx) {
    ctx.setReady(false, 'migrating');
    const projector = await startProjector({
      databaseUrl: ctx.config.database.url,
      eventStoreSchema: ctx.config.eventStore.schema,
      processors: ctx.config.projector.processors as ProcessorName[],
      stateDir: ctx.config.projector.stateDir,
      batchSize: ctx.config.projector.batchSize,
      signEveryEvents: ctx.config.projector.signEveryEvents,
      signEveryMs: ctx.config.projector.signEvery,
      instanceId: ctx.instanceId,
      log: ctx.logger,
      setReady: ctx.setReady,
    });
    ctx.onShutdown(() => projector.close());
  },
});
