import { describe, expect, it } from 'vitest';
import { createEvent, isTameFlareError, uuidv7 } from '@tameflare/contracts';
import { approvalRequestedData, parseOpenInput, requestUrl } from './open-request.ts';

const ids = { actionId: uuidv7(), runId: uuidv7(), gatewayId: 'default', agentId: 'bot' };
const requested = createEvent(
  'ActionRequested',
  {
    ...ids,
    agentName: 'bot',
    ingressId: 'ingress-1',
    connectionId: 'c1',
    request: { method: 'POST', scheme: 'https', host: 'api.stripe.com', port: 443, path: '/v1/payouts', query: 'expand=x', contentType: 'application/x-www-form-urlencoded', contentLength: 10, bodyDigest: 'b'.repeat(64), bodyTruncated: false, userAgent: null },
    action: { type: 'stripe.payout.create', connector: 'stripe', resource: null, params: { amount: 5000 }, risk: 'write', notes: [] },
    classifierVersion: '1',
    requestDigest: 'd'.repeat(64),
  },
  { correlationId: ids.actionId, source: 'test' },
);
const decided = (over: Record<string, unknown> = {}) =>
  createEvent(
    'ActionDecided',
    {
      ...ids,
      decision: 'require_approval',
      enforced: true,
      mode: 'enforce',
      reason: 'payouts need two',
      matchedRules: ['payouts'],
      decidingRule: 'payouts',
      policy: { version: 1, hash: 'c'.repeat(64) },
      decidedBy: 'policy',
      killSwitchId: null,
      inputDigest: 'e'.repeat(64),
      approval: { approverRoles: ['approver'], quorum: 2, timeoutMs: 30_000 },
      error: null,
      evaluationMicros: 3,
      ...over,
    } as never,
    { correlationId: ids.actionId, source: 'test' },
  );

describe('opening an approval from a decision', () => {
  it('binds the approval to the request digest and the rule’s requirement', () => {
    const now = new Date('2030-01-01T00:00:00.000Z');
    const d = approvalRequestedData(parseOpenInput({ requested, decided: decided() }), now);
    expect(d).toMatchObject({
      actionId: ids.actionId,
      runId: ids.runId,
      requestDigest: 'd'.repeat(64),
      request: { method: 'POST', url: 'https://api.stripe.com/v1/payouts?expand=x', bodyDigest: 'b'.repeat(64) },
      ruleId: 'payouts',
      approverRoles: ['approver'],
      quorum: 2,
      timeoutMs: 30_000,
      expiresAt: '2030-01-01T00:00:30.000Z',
    });
    expect(() => createEvent('ApprovalRequested', d, { correlationId: ids.actionId, source: 'test' })).not.toThrow();
  });

  it('keeps a non-default port in the URL', () => {
    expect(requestUrl({ ...requested.data.request, scheme: 'http', port: 8080, query: '' })).toBe('http://api.stripe.com:8080/v1/payouts');
  });

  it.each([
    ['a decision that is not require_approval', () => ({ requested, decided: decided({ decision: 'deny', approval: null }) })],
    ['a decision about another action', () => ({ requested, decided: decided({ actionId: uuidv7() }) })],
    ['a malformed event', () => ({ requested: { ...requested, data: { ...requested.data, requestDigest: 'nope' } }, decided: decided() })],
    ['the events swapped', () => ({ requested: decided(), decided: requested })],
  ])('refuses %s', (_w, input) => {
    try {
      parseOpenInput(input());
      expect.unreachable();
    } catch (err) {
      expect(isTameFlareError(err, 'TF_ERR_APPROVAL_INVALID')).toBe(true);
    }
  });
});
