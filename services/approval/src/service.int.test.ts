import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Buckets,
  Commands,
  isTameFlareError,
  uuidv7,
  type ApprovalClaimReply,
  type ApprovalOpenReply,
  type ApprovalStatusReply,
  type KillSwitchEntry,
} from '@tameflare/contracts';
import type { Bus } from '@tameflare/messaging';
import { waitFor } from '@tameflare/testing';
import { createIngressKeyPair, openCredential } from '@tameflare/vault-crypto';
import { approvalStream } from './repository.ts';
import { startApprovalService, type ApprovalService, type ApprovalServiceOptions } from './service.ts';
import { openRequest, type ActionFixture } from './test/fixtures.ts';
import { STRIPE_SECRET, quietLog, startTestEnv, type TestEnv } from './test/env.ts';

const options = (source: string): ApprovalServiceOptions => ({
  source,
  openGraceMs: 2000,
  vaultTimeoutMs: 2000,
  webhook: { url: null, dashboardUrl: null, timeoutMs: 2000, maxAttempts: 3, signingSecret: null, voters: {} },
});

let env: TestEnv;
let client: Bus;
const replicas: ApprovalService[] = [];
const ingressKeys = createIngressKeyPair();

beforeAll(async () => {
  env = await startTestEnv();
  client = await env.connect('client');
  for (const name of ['a', 'b']) {
    replicas.push(await startApprovalService({ bus: await env.connect(`approval-${name}`), store: env.store, log: quietLog, options: options(`approval@${name}`) }));
  }
});
afterAll(async () => {
  for (const r of replicas) await r.stop();
  await env?.dispose();
});

const open = (f: ReturnType<typeof openRequest>) => client.request<ApprovalOpenReply>(Commands.approvalOpen, { requested: f.requested, decided: f.decided });
const status = (approvalId: string) => client.request<ApprovalStatusReply>(Commands.approvalStatus, { approvalId });
const vote = (approvalId: string, voter: string, v: 'approve' | 'deny' = 'approve', voterRole = 'approver', comment?: string) =>
  client.request<ApprovalStatusReply>(Commands.approvalVote, { approvalId, voter, voterRole, vote: v, channel: 'cli', ...(comment ? { comment } : {}) });
const claim = (approvalId: string, f: { runId: string; requestDigest: string }, actionId = uuidv7(), ingressId = 'ingress-a') =>
  client.request<ApprovalClaimReply>(Commands.approvalClaim, {
    approvalId,
    actionId,
    runId: f.runId,
    requestDigest: f.requestDigest,
    ingress: { id: ingressId, publicKey: ingressKeys.publicKey },
  });
const types = async (approvalId: string) => (await env.store.readStream(approvalStream(approvalId))).events.map((e) => e.event.type);

async function refused(p: Promise<unknown>, code: string): Promise<Error> {
  try {
    await p;
  } catch (err) {
    expect(isTameFlareError(err) ? err.code : err).toBe(code);
    return err as Error;
  }
  throw new Error(`expected ${code}, but it succeeded`);
}

async function opened(f: ActionFixture = {}) {
  const req = openRequest(f);
  const reply = await open(req);
  return { req, reply, id: reply.approvalId };
}

describe('approval service over real NATS and PostgreSQL', () => {
  it('opens an approval bound to the request; an identical retry joins it; a grant is released once with the credential', async () => {
    const { req, reply, id } = await opened();
    expect(reply.status).toBe('pending');
    const retry = openRequest({ runId: req.runId, requestDigest: req.requestDigest });
    expect(await open(retry)).toEqual(reply);
    expect(await status(id)).toMatchObject({ status: 'pending', quorum: 1, approvals: [] });

    expect(await vote(id, 'alice')).toMatchObject({ status: 'granted', approvals: ['alice'] });
    expect(await open(openRequest({ runId: req.runId, requestDigest: req.requestDigest }))).toMatchObject({ approvalId: id, status: 'granted' });

    const actionId = uuidv7();
    const first = await claim(id, req, actionId);
    expect(first.credential).not.toBeNull();
    expect(openCredential(first.credential!, ingressKeys.privateKey, { actionId, ingressId: 'ingress-a' })).toBe(STRIPE_SECRET);
    expect(JSON.stringify((await env.store.readStream(approvalStream(id))).events.map((e) => e.event))).not.toContain(STRIPE_SECRET);
    const rel = env.releases.at(-1)!;
    expect(rel).toMatchObject({ approvalId: id, actionId, secretName: 'stripe-key', connector: 'stripe', ingress: { id: 'ingress-a' } });
    const consumed = (await env.store.readStream(approvalStream(id))).events.find((e) => e.event.type === 'ApprovalConsumed')!;
    expect(rel.authorizedBy).toBe(consumed.event.id);

    await refused(claim(id, req, uuidv7(), 'ingress-b'), 'TF_ERR_APPROVAL_ALREADY_CONSUMED');
    // The same ingress repeating its claim for the same action (lost reply) gets the credential again, not a second release.
    const again = await claim(id, req, actionId);
    expect(openCredential(again.credential!, ingressKeys.privateKey, { actionId, ingressId: 'ingress-a' })).toBe(STRIPE_SECRET);
    expect(await types(id)).toEqual(['ApprovalRequested', 'ApprovalVoteRecorded', 'ApprovalGranted', 'ApprovalConsumed']);

    // Once released, the same request needs a new approval.
    const next = await open(openRequest({ runId: req.runId, requestDigest: req.requestDigest }));
    expect(next.approvalId).not.toBe(id);
    expect(next.status).toBe('pending');
  });

  it('only the request that was approved can be released', async () => {
    const { req, id } = await opened();
    await vote(id, 'alice');
    await refused(claim(id, { runId: req.runId, requestDigest: 'f'.repeat(64) }), 'TF_ERR_APPROVAL_DIGEST_MISMATCH');
    await refused(claim(id, { runId: uuidv7(), requestDigest: req.requestDigest }), 'TF_ERR_APPROVAL_DIGEST_MISMATCH');
    expect((await status(id)).status).toBe('granted');
  });

  it('a quorum of two needs two different people; a repeat vote and a vote without the role change nothing', async () => {
    const { req, id } = await opened({ quorum: 2, approverRoles: ['approver'] });
    expect(await vote(id, 'alice')).toMatchObject({ status: 'pending', approvals: ['alice'] });
    await refused(vote(id, 'ALICE'), 'TF_ERR_APPROVAL_DUPLICATE_VOTE');
    const e = await refused(vote(id, 'mallory', 'approve', 'viewer'), 'TF_ERR_APPROVAL_FORBIDDEN');
    expect(e.message).toMatch(/viewer/);
    await refused(vote(id, 'root', 'approve', 'admin'), 'TF_ERR_APPROVAL_FORBIDDEN');
    expect(await status(id)).toMatchObject({ status: 'pending', approvals: ['alice'] });
    await refused(claim(id, req), 'TF_ERR_APPROVAL_NOT_GRANTED');
    expect(await vote(id, 'bob')).toMatchObject({ status: 'granted', approvals: ['alice', 'bob'] });
    const stream = (await env.store.readStream(approvalStream(id))).events.map((x) => x.event);
    expect(stream.map((x) => x.type)).toEqual([
      'ApprovalRequested',
      'ApprovalVoteRecorded',
      'ApprovalVoteRefused',
      'ApprovalVoteRefused',
      'ApprovalVoteRecorded',
      'ApprovalGranted',
    ]);
    expect(stream[2]!.data).toMatchObject({ voter: 'mallory', reason: 'missing_role', channel: 'cli' });
  });

  it('one deny denies; later votes and claims are refused; the same request then opens a new approval', async () => {
    const { req, id } = await opened({ quorum: 2 });
    expect(await vote(id, 'bob', 'deny', 'approver', 'not on a Friday')).toMatchObject({ status: 'denied', deniedBy: 'bob', reason: 'not on a Friday' });
    await refused(vote(id, 'alice'), 'TF_ERR_APPROVAL_ALREADY_DECIDED');
    await refused(claim(id, req), 'TF_ERR_APPROVAL_NOT_GRANTED');
    expect(await types(id)).toEqual(['ApprovalRequested', 'ApprovalVoteRecorded', 'ApprovalDenied']);
    const next = await open(openRequest({ runId: req.runId, requestDigest: req.requestDigest }));
    expect(next.approvalId).not.toBe(id);
  });

  it('refuses unknown approvals and malformed commands with a clear error', async () => {
    await refused(vote(uuidv7(), 'alice'), 'TF_ERR_APPROVAL_NOT_FOUND');
    await refused(status(uuidv7()), 'TF_ERR_APPROVAL_NOT_FOUND');
    await refused(client.request(Commands.approvalVote, { approvalId: 'nope', voter: 'a', voterRole: 'approver', vote: 'approve', channel: 'cli' }), 'TF_ERR_APPROVAL_INVALID');
    const f = openRequest();
    await refused(client.request(Commands.approvalOpen, { requested: f.decided, decided: f.requested }), 'TF_ERR_APPROVAL_INVALID');
    await refused(client.request(Commands.approvalOpen, { requested: f.requested, decided: { ...f.decided, data: { ...f.decided.data, decision: 'allow', approval: null } } }), 'TF_ERR_APPROVAL_INVALID');
    expect((await (await client.kv(Buckets.approvalSlots)).get(`${f.runId}.${f.requestDigest}`))).toBeNull();
  });

  it('expires at the rule timeout, once, with two replicas armed; a late vote is refused', async () => {
    const { req, id } = await opened({ timeoutMs: 1000 });
    expect(replicas.every((r) => r.liveApprovals() > 0)).toBe(true);
    await waitFor(async () => (await types(id)).includes('ApprovalExpired'), { timeoutMs: 5000, what: 'ApprovalExpired' });
    await new Promise((r) => setTimeout(r, 300));
    expect(await types(id)).toEqual(['ApprovalRequested', 'ApprovalExpired']);
    expect((await status(id)).status).toBe('expired');
    await refused(vote(id, 'alice'), 'TF_ERR_APPROVAL_EXPIRED');
    await refused(claim(id, req), 'TF_ERR_APPROVAL_EXPIRED');
    expect(await types(id)).toEqual(['ApprovalRequested', 'ApprovalExpired']);
    await waitFor(async () => !(await (await client.kv(Buckets.approvalSlots)).get(`${req.runId}.${req.requestDigest}`)), { what: 'slot released' });
  });

  it('two ingresses claiming the same grant at once through two replicas: exactly one wins', async () => {
    for (let round = 0; round < 5; round++) {
      const { req, id } = await opened();
      await vote(id, 'alice');
      const results = await Promise.allSettled([claim(id, req, uuidv7(), 'ingress-a'), claim(id, req, uuidv7(), 'ingress-b'), claim(id, req, uuidv7(), 'ingress-c')]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect((r.reason as { code: string }).code).toBe('TF_ERR_APPROVAL_ALREADY_CONSUMED');
      expect((await types(id)).filter((t) => t === 'ApprovalConsumed')).toHaveLength(1);
    }
  });

  it('identical requests opening at once through two replicas end with one approval', async () => {
    const base = openRequest();
    const replies = await Promise.all(Array.from({ length: 6 }, () => open(openRequest({ runId: base.runId, requestDigest: base.requestDigest }))));
    expect(new Set(replies.map((r) => r.approvalId)).size).toBe(1);
  });

  it('votes racing on two replicas under quorum two grant exactly once', async () => {
    const { id } = await opened({ quorum: 2 });
    const results = await Promise.allSettled(['alice', 'bob', 'carol'].map((v) => vote(id, v)));
    expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThanOrEqual(2);
    const t = await types(id);
    expect(t.filter((x) => x === 'ApprovalGranted')).toHaveLength(1);
    expect(t.filter((x) => x === 'ApprovalVoteRecorded')).toHaveLength(2);
  });

  it('the kill switch denies the pending approvals in its scope, and only those', async () => {
    const inScope = await opened({ agentId: 'runaway' });
    const granted = await opened({ agentId: 'runaway' });
    await vote(granted.id, 'alice');
    const other = await opened({ agentId: 'calm-bot' });
    const ks: KillSwitchEntry = { killSwitchId: uuidv7(), scope: { kind: 'agent', value: 'runaway' }, reason: 'loop detected', engagedBy: 'oncall', engagedAt: new Date().toISOString() };
    const kv = await client.kv(Buckets.killSwitch);
    await kv.put('agent.runaway', ks);
    try {
      await waitFor(async () => (await status(inScope.id)).status === 'denied' && (await status(granted.id)).status === 'denied', { timeoutMs: 5000, what: 'kill switch denial' });
      const denied = (await env.store.readStream(approvalStream(inScope.id))).events.map((e) => e.event).filter((e) => e.type === 'ApprovalDenied');
      expect(denied).toHaveLength(1);
      expect(denied[0]!.data).toMatchObject({ cause: 'kill_switch', killSwitchId: ks.killSwitchId, deniedBy: 'oncall' });
      await refused(claim(granted.id, granted.req), 'TF_ERR_APPROVAL_NOT_GRANTED');
      expect((await status(other.id)).status).toBe('pending');
      // A request of that agent that arrives while the switch is engaged is denied at once.
      const late = await opened({ agentId: 'runaway' });
      await waitFor(async () => (await status(late.id)).status === 'denied', { what: 'late approval denied' });
    } finally {
      await kv.delete('agent.runaway');
    }
  });

  it('a slot left behind by an opener that died before storing its approval is taken over', async () => {
    const f = openRequest();
    const kv = await client.kv(Buckets.approvalSlots);
    const ghost = uuidv7();
    const now = Date.now();
    await kv.create(`${f.runId}.${f.requestDigest}`, {
      approvalId: ghost, runId: f.runId, requestDigest: f.requestDigest, gatewayId: 'default', agentId: 'payout-bot', connector: 'stripe',
      expiresAt: new Date(now + 60_000).toISOString(), createdAt: new Date(now - 10_000).toISOString(),
    });
    const reply = await open(f);
    expect(reply.approvalId).not.toBe(ghost);
    expect((await status(reply.approvalId)).status).toBe('pending');
    expect((await kv.get<{ approvalId: string }>(`${f.runId}.${f.requestDigest}`))!.value.approvalId).toBe(reply.approvalId);
  });

  it('an abandoned slot that nobody reopens is removed after its deadline and the grace', async () => {
    const f = openRequest();
    const kv = await client.kv(Buckets.approvalSlots);
    const now = Date.now();
    await kv.create(`${f.runId}.${f.requestDigest}`, {
      approvalId: uuidv7(), runId: f.runId, requestDigest: f.requestDigest, gatewayId: 'default', agentId: 'payout-bot', connector: 'stripe',
      expiresAt: new Date(now + 1000).toISOString(), createdAt: new Date(now).toISOString(),
    });
    await waitFor(async () => (await kv.get(`${f.runId}.${f.requestDigest}`)) === null, { timeoutMs: 8000, what: 'abandoned slot removed' });
  });
});
