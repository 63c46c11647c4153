import { createEvent, uuidv7, type EventEnvelope, type Role } from '@tameflare/contracts';

export interface ActionFixture {
  actionId?: string;
  runId?: string;
  agentId?: string;
  gatewayId?: string;
  connector?: string;
  actionType?: string;
  requestDigest?: string;
  approverRoles?: Role[];
  quorum?: number;
  timeoutMs?: number;
}

/** The `tf.cmd.approval.open` payload the policy service sends for a request that requires approval. */
export function openRequest(f: ActionFixture = {}): {
  requested: EventEnvelope<'ActionRequested'>;
  decided: EventEnvelope<'ActionDecided'>;
  actionId: string;
  runId: string;
  requestDigest: string;
} {
  const actionId = f.actionId ?? uuidv7();
  const runId = f.runId ?? uuidv7();
  const gatewayId = f.gatewayId ?? 'default';
  const agentId = f.agentId ?? 'payout-bot';
  const connector = f.connector ?? 'stripe';
  const requestDigest = f.requestDigest ?? uuidv7().replace(/-/g, '').padEnd(64, '0');
  const ids = { actionId, runId, gatewayId, agentId };
  const requested = createEvent(
    'ActionRequested',
    {
      ...ids,
      agentName: agentId,
      ingressId: 'ingress-test',
      connectionId: 'conn-1',
      request: {
        method: 'POST',
        scheme: 'https',
        host: 'api.stripe.com',
        port: 443,
        path: '/v1/payouts',
        query: '',
        contentType: 'application/x-www-form-urlencoded',
        contentLength: 24,
        bodyDigest: 'b'.repeat(64),
        bodyTruncated: false,
        userAgent: 'Stripe/v1 NodeBindings',
      },
      action: { type: f.actionType ?? 'stripe.payout.create', connector, resource: null, params: { amount: 5000, currency: 'eur' }, risk: 'write', notes: [] },
      classifierVersion: '1',
      requestDigest,
    },
    { correlationId: actionId, source: 'ingress@test' },
  );
  const decided = createEvent(
    'ActionDecided',
    {
      ...ids,
      decision: 'require_approval',
      enforced: true,
      mode: 'enforce',
      reason: 'payouts need a human',
      matchedRules: ['payouts'],
      decidingRule: 'payouts',
      policy: { version: 1, hash: 'c'.repeat(64) },
      decidedBy: 'policy',
      killSwitchId: null,
      inputDigest: 'e'.repeat(64),
      approval: { approverRoles: f.approverRoles ?? ['approver', 'admin'], quorum: f.quorum ?? 1, timeoutMs: f.timeoutMs ?? 60_000 },
      error: null,
      evaluationMicros: 5,
    },
    { correlationId: actionId, source: 'policy@test' },
  );
  return { requested, decided, actionId, runId, requestDigest };
}
