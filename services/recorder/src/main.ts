/**
 * The recorder process: `node services/recorder/src/main.ts`.
 *
 * Settings (environment, or the file named by TF_CONFIG_FILE): the service-kit base (TF_NATS_*,
 * TF_HEALTH_*, TF_INSTANCE_ID, TF_LOG_LEVEL), TF_DATABASE_URL, TF_EVENT_STORE_SCHEMA (default
 * tf_events), TF_RECORDER_SCHEMA (rejected messages, default tf_recorder), TF_RECORDER_BATCH_SIZE
 * (default 500), TF_RECORDER_ACK_WAIT (default 10s), TF_RECORDER_RELAY (default true).
 */
import { Type } from '@sinclair/typebox';
import { DatabaseConfigSchema, Duration } from '@tameflare/config';
import { runService } from '@tameflare/service-kit';
import { startRecorder } from './recorder.ts';

const Identifier = (fallback: string) => Type.String({ pattern: '^[a-z_][a-z0-9_]{0,47}$', default: fallback, description: 'a lowercase SQL identifier' });

const RecorderConfigSchema = Type.Object({
  database: DatabaseConfigSchema,
  eventStore: Type.Object({ schema: Identifier('tf_events') }),
  recorder: Type.Object({
    schema: Identifier('tf_recorder'),
    batchSize: Type.Integer({ minimum: 1, maximum: 1000, default: 500 }),
    ackWait: Duration({ default: 10_000, minimum: 1000 }),
    relay: Type.Boolean({ default: true }),
  }),
});

await runService({
  name: 'recorder',
  configSchema: RecorderConfigSchema,
  async start(ctx) {
    const recorder = await startRecorder({
      bus: ctx.bus,
      databaseUrl: ctx.config.database.url,
      eventStoreSchema: ctx.config.eventStore.schema,
      recorderSchema: ctx.config.recorder.schema,
      batchSize: ctx.config.recorder.batchSize,
      ackWaitMs: ctx.config.recorder.ackWait,
      relay: ctx.config.recorder.relay,
      instanceId: ctx.instanceId,
      log: ctx.logger,
      setReady: ctx.setReady,
      signal: ctx.signal,
    });
    ctx.onShutdown(() => recorder.close());
    return { stopAccepting: () => recorder.stopAccepting() };
  },
});
