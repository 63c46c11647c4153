/**
 * The approval process: `node services/approval/src/main.ts`.
 *
 * Settings (environment, or the file named by TF_CONFIG_FILE): the service-kit base (TF_NATS_*,
 * TF_HEALTH_*, TF_INSTANCE_ID, TF_LOG_LEVEL), TF_DATABASE_URL (the event store), and the
 * TF_APPROVAL_* settings of config.ts (webhook, Slack callback, timeouts); see docs/approvals.md.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { createPostgresEventStore } from '@tameflare/event-store';
import { isTameFlareError } from '@tameflare/contracts';
import { runService } from '@tameflare/service-kit';
import { ApprovalConfigSchema, serviceOptions } from './config.ts';
import { startApprovalService } from './service.ts';
import { registerSlackCallback, SLACK_CALLBACK_PATH } from './webhook/route.ts';

await runService({
  name: 'approval',
  configSchema: ApprovalConfigSchema,
  async start(ctx) {
    const { bus, logger, config } = ctx;
    const store = createPostgresEventStore({
      connectionString: config.database.url,
      applicationName: 'tameflare-approval',
      onError: (err) => logger.warn({ err }, 'idle PostgreSQL connection failed'),
    });
    ctx.onShutdown(() => store.close());
    await store.migrate();
    await bus.ensureStreams();
    try {
      await bus.ensureBuckets();
    } catch (err) {
      // Under the NATS permission matrix only the owner of a bucket may create it; they exist by then.
      if (!isTameFlareError(err, 'TF_ERR_NATS_PERMISSION_DENIED') && !isTameFlareError(err, 'TF_ERR_JETSTREAM')) throw err;
      logger.info({ code: err.code }, 'KV buckets not created here (no permission); using the existing ones');
    }
    const options = serviceOptions(config.approval, `approval@${ctx.instanceId}`);
    const service = await startApprovalService({ bus, store, log: logger, options });
    ctx.onShutdown(() => service.stop());

    let http: FastifyInstance | undefined;
    if (options.webhook.signingSecret) {
      http = Fastify({ logger: false });
      await registerSlackCallback(http, { signingSecret: options.webhook.signingSecret, voters: options.webhook.voters, vote: (v) => ctx.track(service.vote(v)) });
      await http.listen({ host: config.approval.httpHost, port: config.approval.httpPort });
      const addr = http.server.address();
      logger.info({ port: typeof addr === 'object' && addr ? addr.port : config.approval.httpPort, path: SLACK_CALLBACK_PATH }, 'Slack callback listening');
    }
    logger.info({ webhook: options.webhook.url !== null, slackVoters: Object.keys(options.webhook.voters).length, liveApprovals: service.liveApprovals() }, 'approval service ready');
    return { stopAccepting: async () => void (await http?.close()) };
  },
});
