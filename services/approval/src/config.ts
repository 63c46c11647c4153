import { Type, type Static } from '@sinclair/typebox';
import { DatabaseConfigSchema, Duration, Secret } from '@tameflare/config';
import type { Role } from '@tameflare/contracts';
import type { ApprovalServiceOptions } from './service.ts';
import type { WebhookVoter } from './webhook/callback.ts';

/**
 * The approval service's own settings (on top of the service-kit base). Each is set by the
 * environment variable named after its path: `approval.webhookUrl` is `TF_APPROVAL_WEBHOOK_URL`.
 */
export const ApprovalConfigSchema = Type.Object({
  database: DatabaseConfigSchema,
  approval: Type.Object({
    /** Where the Slack-compatible message for a new approval is POSTed. A Slack webhook URL is a credential. */
    webhookUrl: Type.Optional(Secret({ pattern: '^https?://', description: 'an http(s) URL' })),
    /** Adds an "Open" button linking to `<url>/approvals/<id>`. */
    dashboardUrl: Type.Optional(Type.String({ pattern: '^https?://', description: 'an http(s) URL' })),
    webhookTimeoutMs: Duration({ default: 5000 }),
    webhookMaxAttempts: Type.Integer({ minimum: 1, maximum: 1000, default: 10 }),
    /** Slack app signing secret; without it the callback endpoint is not started. */
    slackSigningSecret: Type.Optional(Secret({ minLength: 8 })),
    /** Slack user id → voter, as `U024BE7LH=alice:approver` (comma-separated). */
    slackVoters: Type.Array(Type.String({ pattern: '^[A-Z0-9]{2,40}=[^:,=]{1,200}:(viewer|approver|admin)$', description: 'SLACKUSERID=name:role' }), { default: [] }),
    /** The callback listens here (0 picks a free port). */
    httpPort: Type.Integer({ minimum: 0, maximum: 65535, default: 9410 }),
    httpHost: Type.String({ minLength: 1, default: '127.0.0.1' }),
    openGraceMs: Duration({ default: 5000, minimum: 100 }),
    vaultTimeoutMs: Duration({ default: 2000, minimum: 100 }),
  }),
});
export type ApprovalConfig = Static<typeof ApprovalConfigSchema>;

/** `U024BE7LH=alice:approver` entries as a lookup by Slack user id. */
export function parseSlackVoters(entries: readonly string[]): Record<string, WebhookVoter> {
  const out: Record<string, WebhookVoter> = Object.create(null);
  for (const e of entries) {
    const [id, rest] = e.split('=') as [string, string];
    const i = rest.lastIndexOf(':');
    out[id] = { name: rest.slice(0, i), role: rest.slice(i + 1) as Role };
  }
  return out;
}

/** The service options from the loaded configuration. */
export function serviceOptions(c: ApprovalConfig['approval'], source: string): ApprovalServiceOptions {
  return {
    source,
    openGraceMs: c.openGraceMs,
    vaultTimeoutMs: c.vaultTimeoutMs,
    webhook: {
      url: c.webhookUrl ?? null,
      dashboardUrl: c.dashboardUrl ?? null,
      timeoutMs: c.webhookTimeoutMs,
      maxAttempts: c.webhookMaxAttempts,
      signingSecret: c.slackSigningSecret ?? null,
      voters: parseSlackVoters(c.slackVoters),
    },
  };
}
