import {
  Commands,
  createEvent,
  TameFlareError,
  validateEvent,
  type ApprovalClaimReply,
  type ApprovalClaimRequest,
  type ApprovalStatus,
  type ApprovalStatusReply,
  type EventEnvelope,
} from '@tameflare/contracts';
import type { Listener } from '@tameflare/messaging';
import { GatewayHeaders, ProblemTypes } from '@tameflare/proxy';
import { sendWith, type ClientEnv } from '@tameflare/proxy/testing';
import { sealCredential } from '@tameflare/vault-crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY, startHarness, type Harness } from './test/harness.ts';

/**
 * The approval service's side of the contract, small and real: `tf.cmd.approval.status` and
 * `tf.cmd.approval.claim` over NATS, approval events on `tf.evt.approval.*.<gateway>`.
 */
interface Approval {
  status: ApprovalStatus;
  reason: string | null;
  deniedBy: string | null;
  requested: EventEnvelope<'ActionRequested'> | null;
  claims: ApprovalClaimRequest[];
  refuseClaim: string | null;
  /** False: status keeps answering pending, so only the event can release the hold. */
  statusShowsDecision: boolean;
}

describe('require_approval over NATS', () => {
  let h: Harness;
  let env: ClientEnv;
  const approvals = new Map<string, Approval>();
  const listeners: Listener[] = [];

  const pendingApproval = async (): Promise<[string, Approval]> => {
    for (let i = 0; i < 300; i++) {
      const hit = [...approvals.entries()].find(([, a]) => a.status === 'pending' && a.requested);
      if (hit) return hit;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('no approval is pending');
  };

  beforeAll(async () => {
    h = await startHarness({ env: { TF_INGRESS_APPROVAL_POLL_MS: '200ms', TF_INGRESS_APPROVAL_HOLD_MS: '3s' } });
    env = { proxyUrl: h.proxyUrl, caPem: h.caPem };
    // The approval opened by the policy responder becomes known here from the ActionDecided it recorded.
    listeners.push(
      await h.bus.subscribe('tf.evt.action.requested.>', (p: unknown) => {
        const e = validateEvent(p) as EventEnvelope<'ActionRequested'>;
        if (e.data.action.type === 'github.pr.merge') pendingRequests.push(e);
      }),
    );
    listeners.push(
      await h.bus.serve({ subject: Commands.approvalStatus.subject, queue: Commands.approvalStatus.queue }, (p: { approvalId: string }): ApprovalStatusReply => {
        const a = approvalFor(p.approvalId);
        return {
          approvalId: p.approvalId,
          status: a.statusShowsDecision ? a.status : 'pending',
          expiresAt: new Date(Date.now() + 3600_000).toISOString(),
          quorum: 1,
          approvals: a.status === 'granted' ? ['alice'] : [],
          deniedBy: a.deniedBy,
          reason: a.reason,
        };
      }),
    );
    listeners.push(
      await h.bus.serve({ subject: Commands.approvalClaim.subject, queue: Commands.approvalClaim.queue }, (p: ApprovalClaimRequest): ApprovalClaimReply => {
        const a = approvalFor(p.approvalId);
        a.claims.push(p);
        if (a.refuseClaim) throw new TameFlareError(a.refuseClaim, 'refused by the test approval service');
        if (a.status !== 'granted') throw new TameFlareError('TF_ERR_APPROVAL_NOT_GRANTED', 'not granted');
        if (p.requestDigest !== a.requested!.data.requestDigest) throw new TameFlareError('TF_ERR_APPROVAL_DIGEST_MISMATCH', 'digest');
        a.status = 'consumed';
        return {
          approvalId: p.approvalId,
          credential: sealCredential(
            Buffer.from(h.secret),
            p.ingress.publicKey,
            { actionId: p.actionId, ingressId: p.ingress.id, secretName: 'github-token', secretVersion: 1 },
            { kind: 'bearer' },
          ),
        };
      }),
    );
  });
  afterAll(async () => {
    for (const l of listeners) await l.stop();
    await h?.stop();
  });

  const pendingRequests: EventEnvelope<'ActionRequested'>[] = [];
  function approvalFor(approvalId: string): Approval {
    let a = approvals.get(approvalId);
    if (!a) {
      a = { status: 'pending', reason: null, deniedBy: null, requested: pendingRequests.shift() ?? null, claims: [], refuseClaim: null, statusShowsDecision: true };
      approvals.set(approvalId, a);
    }
    return a;
  }
  const merge = () => sendWith('curl', env, { method: 'PUT', url: 'https://api.github.com/repos/acme/widgets/pulls/7/merge', body: Buffer.from('{"merge_method":"squash"}') });

  it('holds the merge, then forwards it once the ApprovalGranted event arrives, with the claimed credential', async () => {
    const before = h.github.captured.length;
    const pending = merge();
    const [approvalId, a] = await pendingApproval();
    expect(h.github.captured.length).toBe(before);
    a.statusShowsDecision = false;
    a.status = 'granted';
    const r = a.requested!.data;
    await h.bus.publishEvent(
      createEvent('ApprovalGranted', { approvalId, actionId: r.actionId, gatewayId: GATEWAY, agentId: r.agentId, runId: r.runId, approvers: ['alice'] }, { correlationId: r.actionId, source: 'approval@test' }),
    );
    const res = await pending;
    expect(res.status).toBe(200);
    expect(a.claims).toHaveLength(1);
    expect(a.claims[0]).toMatchObject({ actionId: r.actionId, runId: r.runId, requestDigest: r.requestDigest, ingress: { id: 'ingress-a' } });
    const seen = h.github.captured.at(-1)!;
    expect(seen.url).toBe('/repos/acme/widgets/pulls/7/merge');
    expect(seen.body!.toString()).toBe('{"merge_method":"squash"}');
    expect(seen.headers.authorization).toBe(`Bearer ${h.secret}`);
    const completed = (await h.streamEvents()).filter((e) => e.type === 'ActionCompleted').at(-1)!;
    expect(completed.data).toMatchObject({ approvalId, outcome: 'completed', credential: { secretName: 'github-token' } });
  });

  it('learns a denial by polling approval status (no event) and answers 403', async () => {
    const before = h.github.captured.length;
    const pending = merge();
    const [approvalId, a] = await pendingApproval();
    a.status = 'denied';
    a.reason = 'release freeze';
    a.deniedBy = 'bob';
    const res = await pending;
    expect(res.status).toBe(403);
    expect(res.headers[GatewayHeaders.shouldRetry]).toBe('false');
    expect(JSON.parse(res.body.toString())).toMatchObject({ type: ProblemTypes.approvalDenied, approvalId, reason: 'release freeze' });
    expect(h.github.captured.length).toBe(before);
  });

  it('answers 403 when another request already consumed the approval', async () => {
    const pending = merge();
    const [, a] = await pendingApproval();
    a.refuseClaim = 'TF_ERR_APPROVAL_ALREADY_CONSUMED';
    a.status = 'granted';
    const res = await pending;
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body.toString()).reason).toMatch(/already used/);
  });

  it('answers 408 when nobody decides within the hold', async () => {
    const pending = merge();
    await pendingApproval();
    const res = await pending;
    expect(res.status).toBe(408);
    expect(JSON.parse(res.body.toString())).toMatchObject({ type: ProblemTypes.approvalExpired });
    const completed = (await h.streamEvents()).filter((e) => e.type === 'ActionCompleted').at(-1)!;
    expect(completed.data).toMatchObject({ outcome: 'approval_expired', status: 408 });
  });
});
