/**
 * The audit API process: `node services/audit-api/src/main.ts`.
 *
 * Settings (environment, or the file named by TF_CONFIG_FILE): the service-kit base (TF_NATS_*,
 * TF_HEALTH_*, TF_INSTANCE_ID, TF_LOG_LEVEL), TF_DATABASE_URL (where the projector keeps the read
 * models), TF_AUDIT_API_HOST (127.0.0.1), TF_AUDIT_API_PORT (4000),
 * TF_AUDIT_API_BOOTSTRAP_ADMIN_TOKEN_SHA256 (SHA-256 hex of a first admin token),
 * TF_AUDIT_API_DASHBOARD_DIR, TF_AUDIT_API_MAX_DEPTH (12), TF_AUDIT_API_MAX_COST (50000),
 * TF_AUDIT_API_MAX_TOKENS (4000), TF_AUDIT_API_BACKTEST_MAX_ACTIONS (1000000).
 */
import { Type } from '@sinclair/typebox';
import { DatabaseConfigSchema } from '@tameflare/config';
import { createAuditPool } from '@tameflare/audit';
import { runService } from '@tameflare/service-kit';
import { createAuthenticator } from './auth/authenticate.ts';
import { createAuditApi } from './server.ts';

const AuditApiConfigSchema = Type.Object({
  database: DatabaseConfigSchema,
  auditApi: Type.Object({
    host: Type.String({ default: '127.0.0.1', minLength: 1 }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 4000 }),
    bootstrapAdminTokenSha256: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$', description: 'the SHA-256 (hex) of a bootstrap admin token' })),
    dashboardDir: Type.Optional(Type.String({ minLength: 1 })),
    maxDepth: Type.Integer({ minimum: 2, maximum: 50, default: 12 }),
    maxCost: Type.Integer({ minimum: 100, default: 50_000 }),
    maxTokens: Type.Integer({ minimum: 100, default: 4000 }),
    backtestMaxActions: Type.Integer({ minimum: 1, default: 1_000_000 }),
  }),
});

await runService({
  name: 'audit-api',
  configSchema: AuditApiConfigSchema,
  async start(ctx) {
    const c = ctx.config.auditApi;
    const pool = createAuditPool({ connectionString: ctx.config.database.url, applicationName: 'tameflare-audit-api', onError: (err) => ctx.logger.warn({ err }, 'database connection error') });
    const api = await createAuditApi({
      pool,
      bus: ctx.bus,
      authenticator: createAuthenticator({ bus: ctx.bus, bootstrapAdminTokenSha256: c.bootstrapAdminTokenSha256 ?? null }),
      log: ctx.logger,
      host: c.host,
      port: c.port,
      limits: { maxDepth: c.maxDepth, maxCost: c.maxCost, maxTokens: c.maxTokens },
      backtestMaxActions: c.backtestMaxActions,
      ...(c.dashboardDir ? { dashboardDir: c.dashboardDir } : {}),
    });
    ctx.onShutdown(() => pool.end());
    return { stopAccepting: () => api.close() };
  },
});
