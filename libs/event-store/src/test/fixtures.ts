import { createEvent, uuidv7, type EventEnvelope } from '@tameflare/contracts';

/** Valid events for tests and benchmarks. Each call makes a fresh id unless one is given. */
export const fixtures = {
  /** An `ActionRequested` (hot path) in stream `action-<actionId>`. */
  actionRequested(options: { actionId?: string; gatewayId?: string; id?: string; path?: string } = {}): EventEnvelope<'ActionRequested'> {
    const actionId = options.actionId ?? uuidv7();
    return createEvent(
      'ActionRequested',
      {
        actionId,
        gatewayId: options.gatewayId ?? 'default',
        agentId: 'test-agent',
        runId: '01890000-0000-7000-8000-000000000001',
        agentName: 'test agent',
        ingressId: 'ingress-test',
        connectionId: 'c1',
        request: {
          method: 'POST',
          scheme: 'https',
          host: 'api.github.com',
          port: 443,
          path: options.path ?? '/repos/octo/hello/issues',
          query: '',
          contentType: 'application/json',
          contentLength: 42,
          bodyDigest: 'b'.repeat(64),
          bodyTruncated: false,
          userAgent: 'octokit',
        },
        action: { type: 'github.issue.create', connector: 'github', resource: 'octo/hello', params: { owner: 'octo', repo: 'hello' }, risk: 'write', notes: [] },
        classifierVersion: '1',
        requestDigest: 'a'.repeat(64),
      },
      { correlationId: actionId, source: 'ingress@test', ...(options.id ? { id: options.id } : {}) },
    );
  },

  /** An `ActionCompleted` (hot path) for `actionId`. */
  actionCompleted(actionId: string, options: { gatewayId?: string } = {}): EventEnvelope<'ActionCompleted'> {
    return createEvent(
      'ActionCompleted',
      {
        actionId,
        gatewayId: options.gatewayId ?? 'default',
        agentId: 'test-agent',
        runId: '01890000-0000-7000-8000-000000000001',
        outcome: 'completed',
        status: 201,
        forwarded: true,
        bytesIn: 42,
        bytesOut: 512,
        upstreamMs: 12.5,
        totalMs: 13.1,
        credential: null,
        approvalId: null,
        redactions: 0,
        error: null,
      },
      { correlationId: actionId, source: 'ingress@test' },
    );
  },

  /** A `GatewayCreated` (control plane, not hot path) in stream `gateway-<gatewayId>`. */
  gatewayCreated(gatewayId: string, name = 'Test gateway'): EventEnvelope<'GatewayCreated'> {
    return createEvent('GatewayCreated', { gatewayId, name, mode: 'enforce', createdBy: 'test' }, { correlationId: gatewayId, source: 'control@test' });
  },
};
