import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Commands, isTameFlareError, type ApprovalStatusReply, type EventEnvelope } from '@tameflare/contracts';
import { sendWith, type ClientResponse } from '@tameflare/proxy/testing';
import { waitFor } from '@tameflare/testing';
import { startStack, type Stack } from './harness/stack.ts';

const POLICY = `
version: 1
name: approvals-e2e
rules:
  - id: payouts-need-two
    effect: require_approval
    match: { actions: [stripe.payout.create] }
    reason: Payouts need two approvers
    approval: { timeout: 2m, approvers: [approver], quorum: 2 }
  - id: refunds-need-one
    effect: require_approval
    match: { actions: [stripe.refund.create] }
    reason: Refunds need an approval
    approval: { timeout: 2m, approvers: [approver, admin], quorum: 1 }
  - id: customer-delete-is-urgent
    effect: require_approval
    match: { actions: [stripe.customer.delete] }
    reason: Deleting a customer needs an approval within two seconds
    approval: { timeout: 2s, approvers: [approver], quorum: 1 }
`;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ policy: POLICY, ingressReplicas: 2 });
}, 180_000);
afterAll(async () => {
  await stack?.stop();
}, 60_000);

let seq = 0;
const form = { 'content-type': 'application/x-www-form-urlencoded' };
const client = (i = 0) => ({ proxyUrl: stack.proxyUrl(i), caPem: stack.caPem });
/** A refund request for a charge no other test uses, so each has its own request digest. */
const refund = () => {
  const charge = `ch_e2e${++seq}${Date.now()}`;
  return { charge, req: { method: 'POST', url: 'https://api.stripe.com/v1/refunds', headers: form, body: Buffer.from(`charge=${charge}&amount=7000`) } };
};
/** curl through ingress replica `i`: a real client, held on its connection until the gateway answers. */
const send = (req: Parameters<typeof sendWith>[2], i = 0) => sendWith('curl', client(i), req);
const upstreamHits = (charge: string) => stack.stripe.captured.filter((c) => c.body?.toString().includes(charge));

/** The approval opened for a request whose action has this resource, the `n`th one if several. */
async function approvalFor(resource: string, n = 1): Promise<EventEnvelope<'ApprovalRequested'>> {
  return waitFor(
    () => stack.events.filter((e): e is EventEnvelope<'ApprovalRequested'> => e.type === 'ApprovalRequested' && e.data.request.action.resource === resource)[n - 1],
    { timeoutMs: 15_000, what: `approval for ${resource}` },
  );
}

const vote = (approvalId: string, voter: string, v: 'approve' | 'deny' = 'approve', comment?: string) =>
  stack.bus.request<ApprovalStatusReply>(Commands.approvalVote, { approvalId, voter, voterRole: 'approver', vote: v, channel: 'cli', ...(comment ? { comment } : {}) });

async function stillHeld(p: Promise<ClientResponse>, ms = 700): Promise<boolean> {
  return Promise.race([p.then(() => false, () => false), new Promise<boolean>((r) => setTimeout(() => r(true), ms))]);
}

function problem(r: ClientResponse): { status: number; title: string; detail: string; approvalId?: string } {
  expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
  return JSON.parse(r.body.toString());
}

describe('approvals end to end: a real client held by the ingress', () => {
  it('approve from another process: the held request completes upstream with the injected credential', async () => {
    const { charge, req } = refund();
    const pending = send(req);
    const approval = await approvalFor(charge);
    expect(approval.data).toMatchObject({ ruleId: 'refunds-need-one', quorum: 1, request: { method: 'POST', url: 'https://api.stripe.com/v1/refunds' } });
    expect(await stillHeld(pending)).toBe(true);
    expect(upstreamHits(charge)).toHaveLength(0);

    expect((await vote(approval.data.approvalId, 'alice')).status).toBe('granted');
    const res = await pending;
    expect(res.status).toBe(200);
    const hits = upstreamHits(charge);
    expect(hits).toHaveLength(1);
    expect(hits[0]!.headers.authorization).toBe(`Bearer ${stack.stripeKey}`);
    expect(res.body.toString()).not.toContain(stack.stripeKey);
    const completed = await waitFor(() => stack.events.find((e) => e.type === 'ActionCompleted' && e.data.approvalId === approval.data.approvalId));
    expect(completed.data).toMatchObject({ outcome: 'completed', status: 200, forwarded: true, credential: { secretName: 'stripe-key' } });
    expect(JSON.stringify(stack.events)).not.toContain(stack.stripeKey);
  });

  it('deny gives the agent 403 and nothing reaches the upstream', async () => {
    const { charge, req } = refund();
    const pending = send(req);
    const approval = await approvalFor(charge);
    await vote(approval.data.approvalId, 'bob', 'deny', 'not this customer');
    const res = await pending;
    expect(res.status).toBe(403);
    const p = problem(res);
    expect(p.detail).toContain('not this customer');
    expect(upstreamHits(charge)).toHaveLength(0);
  });

  it('no answer within the rule timeout gives 408', async () => {
    const customer = `cus_e2e${++seq}`;
    const res = await send({ method: 'DELETE', url: `https://api.stripe.com/v1/customers/${customer}` });
    expect(res.status).toBe(408);
    const approval = await approvalFor(customer);
    expect(approval.data.timeoutMs).toBe(2000);
    await waitFor(() => stack.events.find((e) => e.type === 'ApprovalExpired' && e.data.approvalId === approval.data.approvalId), { what: 'ApprovalExpired' });
    expect(stack.stripe.captured.filter((c) => c.url.includes(customer))).toHaveLength(0);
  });

  it('a quorum rule needs two different approvers', async () => {
    const destination = `po_e2e${++seq}`;
    const pending = send({ method: 'POST', url: 'https://api.stripe.com/v1/payouts', headers: form, body: Buffer.from(`amount=5000&currency=eur&description=${destination}`) });
    const approval = await waitFor(
      () => stack.events.find((e): e is EventEnvelope<'ApprovalRequested'> => e.type === 'ApprovalRequested' && e.data.ruleId === 'payouts-need-two' && JSON.stringify(e.data.request.action.params).includes(destination)),
      { timeoutMs: 15_000, what: 'payout approval' },
    );
    expect(approval.data.quorum).toBe(2);
    expect((await vote(approval.data.approvalId, 'alice')).status).toBe('pending');
    try {
      await vote(approval.data.approvalId, 'Alice');
      expect.unreachable();
    } catch (err) {
      expect(isTameFlareError(err, 'TF_ERR_APPROVAL_DUPLICATE_VOTE')).toBe(true);
    }
    expect(await stillHeld(pending)).toBe(true);
    expect(stack.stripe.captured.filter((c) => c.body?.toString().includes(destination))).toHaveLength(0);
    expect((await vote(approval.data.approvalId, 'bob')).status).toBe('granted');
    const res = await pending;
    expect(res.status).toBe(200);
    expect(stack.stripe.captured.filter((c) => c.body?.toString().includes(destination))).toHaveLength(1);
  });

  it('the approval service is killed while the approval is pending and started again: approving completes the request', async () => {
    const { charge, req } = refund();
    const pending = send(req);
    const approval = await approvalFor(charge);
    await stack.approval.kill();
    expect(await stillHeld(pending, 1000)).toBe(true);
    await stack.approval.start();
    expect((await vote(approval.data.approvalId, 'alice')).status).toBe('granted');
    const res = await pending;
    expect(res.status).toBe(200);
    expect(upstreamHits(charge)).toHaveLength(1);
    expect(upstreamHits(charge)[0]!.headers.authorization).toBe(`Bearer ${stack.stripeKey}`);
  }, 60_000);

  it('the ingress replica holding the request is killed: after the grant, the agent’s retry goes through exactly once', async () => {
    const { charge, req } = refund();
    const held = send(req, 0).then(
      (r) => ({ ok: true as const, r }),
      (err: unknown) => ({ ok: false as const, err }),
    );
    const approval = await approvalFor(charge);
    await stack.ingress[0]!.kill();
    const outcome = await held;
    expect(outcome.ok).toBe(false);
    expect(upstreamHits(charge)).toHaveLength(0);

    expect((await vote(approval.data.approvalId, 'alice')).status).toBe('granted');
    const retry = await send(req, 1);
    expect(retry.status).toBe(200);
    expect(upstreamHits(charge)).toHaveLength(1);
    expect(upstreamHits(charge)[0]!.headers.authorization).toBe(`Bearer ${stack.stripeKey}`);
    const consumed = stack.events.filter((e): e is EventEnvelope<'ApprovalConsumed'> => e.type === 'ApprovalConsumed' && e.data.approvalId === approval.data.approvalId);
    expect(consumed).toHaveLength(1);
    expect(consumed[0]!.data.ingressId).toBe('ingress-b');

    // The same request again is not let through on the used approval: it waits for a new one.
    const again = send(req, 1);
    const second = await approvalFor(charge, 2);
    expect(second.data.approvalId).not.toBe(approval.data.approvalId);
    expect(await stillHeld(again)).toBe(true);
    expect(upstreamHits(charge)).toHaveLength(1);
    await vote(second.data.approvalId, 'alice', 'deny', 'already refunded');
    expect((await again).status).toBe(403);
    expect(upstreamHits(charge)).toHaveLength(1);
    await stack.ingress[0]!.start();
  }, 60_000);
});
