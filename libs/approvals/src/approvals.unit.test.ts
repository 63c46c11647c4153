import { describe, expect, it } from 'vitest';
import { createEvent, isTameFlareError, uuidv7, type EventData, type Role } from '@tameflare/contracts';
import {
  ApprovalErrorCode,
  decide,
  fold,
  initialState,
  statusReply,
  type ApprovalCommand,
  type ApprovalEvent,
  type ApprovalState,
  type OpenedApproval,
} from './index.ts';

const t0 = new Date('2030-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(t0.getTime() + ms);
const digest = 'd'.repeat(64);

function requested(over: Partial<EventData<'ApprovalRequested'>> = {}): EventData<'ApprovalRequested'> {
  return {
    approvalId: uuidv7(),
    actionId: uuidv7(),
    gatewayId: 'default',
    agentId: 'payout-bot',
    runId: uuidv7(),
    agentName: 'payout-bot',
    requestDigest: digest,
    request: {
      method: 'POST',
      url: 'https://api.stripe.com:443/v1/payouts',
      action: { type: 'stripe.payout.create', connector: 'stripe', resource: null, params: { amount: 5000 }, risk: 'write', notes: [] },
      bodyDigest: 'b'.repeat(64),
    },
    ruleId: 'payouts-need-two',
    reason: 'payouts need two approvers',
    approverRoles: ['approver', 'admin'],
    quorum: 1,
    timeoutMs: 60_000,
    expiresAt: at(60_000).toISOString(),
    ...over,
  };
}

/** Applies a command the way the service does: fold every event it yields, refusal or not. */
function run(state: ApprovalState, command: ApprovalCommand, log: ApprovalEvent[]) {
  const d = decide(command, state);
  log.push(...d.events);
  return { decision: d, state: fold(d.events, state) };
}

function open(over: Partial<EventData<'ApprovalRequested'>> = {}) {
  const log: ApprovalEvent[] = [];
  const { state } = run(initialState, { type: 'RequestApproval', data: requested(over), now: t0 }, log);
  return { state: state as OpenedApproval, log };
}

const vote = (voter: string, v: 'approve' | 'deny', ms = 1000, voterRole: Role = 'approver'): ApprovalCommand => ({
  type: 'CastVote',
  data: { voter, voterRole, vote: v, comment: null, channel: 'cli' },
  now: at(ms),
});

const claim = (s: OpenedApproval, ms = 2000, over: Partial<{ requestDigest: string; runId: string }> = {}): ApprovalCommand => ({
  type: 'ConsumeApproval',
  data: { releasedActionId: uuidv7(), runId: s.request.runId, requestDigest: s.request.requestDigest, ingressId: 'ingress-a', ...over },
  now: at(ms),
});

describe('approval lifecycle', () => {
  it('is granted by one approver when the quorum is one, then released exactly once', () => {
    const { state, log } = open();
    const granted = run(state, vote('alice', 'approve'), log);
    expect(granted.decision.ok).toBe(true);
    expect(granted.state).toMatchObject({ status: 'granted', approvers: ['alice'] });
    const first = run(granted.state, claim(state), log);
    expect(first.decision.ok).toBe(true);
    expect(first.state.exists && first.state.status).toBe('consumed');
    const second = run(first.state, claim(state, 2500), log);
    expect(second.decision.ok).toBe(false);
    if (!second.decision.ok) expect(second.decision.error.code).toBe(ApprovalErrorCode.AlreadyConsumed);
    expect(log.map((e) => e.type)).toEqual(['ApprovalRequested', 'ApprovalVoteRecorded', 'ApprovalGranted', 'ApprovalConsumed']);
  });

  it('every event it produces is valid against the published schema', () => {
    const { state, log } = open({ quorum: 2 });
    let s: ApprovalState = state;
    for (const c of [vote('viewer-vic', 'approve', 500, 'viewer'), vote('alice', 'approve'), vote('bob', 'approve', 1500)]) s = run(s, c, log).state;
    run(s, claim(state), log);
    for (const e of log) expect(() => createEvent(e.type, e.data as never, { correlationId: 'c', source: 'test' })).not.toThrow();
    expect(log.map((e) => e.type)).toContain('ApprovalVoteRefused');
  });

  it('needs two different approvers under a quorum of two; the same person twice does not count', () => {
    const { state, log } = open({ quorum: 2 });
    const one = run(state, vote('alice', 'approve'), log);
    expect(one.state).toMatchObject({ status: 'pending', approvers: ['alice'] });
    const again = run(one.state, vote(' Alice ', 'approve', 1200), log);
    expect(again.decision.ok).toBe(false);
    if (!again.decision.ok) expect(again.decision.error.code).toBe(ApprovalErrorCode.DuplicateVote);
    expect(again.decision.events).toEqual([]);
    expect(again.state).toEqual(one.state);
    const two = run(one.state, vote('bob', 'approve', 1500, 'admin'), log);
    expect(two.state).toMatchObject({ status: 'granted', approvers: ['alice', 'bob'] });
  });

  it('is denied by a single deny from an allowed role, with who and why', () => {
    const { state, log } = open({ quorum: 2 });
    const a = run(state, vote('alice', 'approve'), log);
    const d = run(a.state, { type: 'CastVote', data: { voter: 'bob', voterRole: 'approver', vote: 'deny', comment: 'not this week', channel: 'graphql' }, now: at(1500) }, log);
    expect(d.state).toMatchObject({ status: 'denied', deniedBy: 'bob', reason: 'not this week', denyCause: 'vote' });
    expect(statusReply(d.state as OpenedApproval)).toMatchObject({ status: 'denied', deniedBy: 'bob', approvals: ['alice'], quorum: 2 });
  });

  it('refuses and records a vote by someone without the role, and the approval stays pending', () => {
    const { state, log } = open();
    const r = run(state, vote('mallory', 'approve', 1000, 'viewer'), log);
    expect(r.decision.ok).toBe(false);
    if (r.decision.ok) return;
    expect(isTameFlareError(r.decision.error, ApprovalErrorCode.Forbidden)).toBe(true);
    expect(r.decision.error.message).toMatch(/viewer.*approver or admin/);
    expect(r.decision.events.map((e) => e.type)).toEqual(['ApprovalVoteRefused']);
    expect(r.decision.events[0]!.data).toMatchObject({ voter: 'mallory', reason: 'missing_role' });
    expect(r.state).toMatchObject({ status: 'pending', approvers: [], refusals: 1 });
  });

  it('refuses votes on a decided approval without changing it', () => {
    const { state, log } = open();
    const g = run(state, vote('alice', 'approve'), log).state;
    for (const c of [vote('bob', 'approve', 1500), vote('bob', 'deny', 1500)]) {
      const r = run(g, c, log);
      expect(r.decision.ok).toBe(false);
      if (!r.decision.ok) expect(r.decision.error.code).toBe(ApprovalErrorCode.AlreadyDecided);
      expect(r.decision.events).toEqual([]);
      expect(r.state).toEqual(g);
    }
  });

  it('expires at the deadline: a late vote is refused and the expiry recorded, once', () => {
    const { state, log } = open();
    const early = decide({ type: 'ExpireApproval', now: at(59_999) }, state);
    expect(early.ok).toBe(false);
    if (!early.ok) expect(early.error.code).toBe(ApprovalErrorCode.NotDue);
    const late = run(state, vote('alice', 'approve', 60_000), log);
    expect(late.decision.ok).toBe(false);
    if (!late.decision.ok) expect(late.decision.error.code).toBe(ApprovalErrorCode.Expired);
    expect(late.decision.events.map((e) => e.type)).toEqual(['ApprovalExpired']);
    expect(late.state.exists && late.state.status).toBe('expired');
    const again = run(late.state, vote('bob', 'approve', 61_000), log);
    expect(again.decision.events).toEqual([]);
    const ex = decide({ type: 'ExpireApproval', now: at(70_000) }, late.state);
    expect(ex.ok).toBe(false);
  });

  it('a grant not claimed within the rule timeout expires and can no longer be claimed', () => {
    const { state, log } = open();
    const g = run(state, vote('alice', 'approve', 10_000), log).state;
    expect(decide(claim(state, 69_999), g).ok).toBe(true);
    const late = run(g, claim(state, 70_000), log);
    expect(late.decision.ok).toBe(false);
    if (!late.decision.ok) expect(late.decision.error.code).toBe(ApprovalErrorCode.Expired);
    expect(late.state.exists && late.state.status).toBe('expired');
  });

  it('releases only the request that was approved (same digest, same run)', () => {
    const { state, log } = open();
    const g = run(state, vote('alice', 'approve'), log).state;
    for (const over of [{ requestDigest: 'e'.repeat(64) }, { runId: uuidv7() }]) {
      const r = decide(claim(state, 2000, over), g);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.code).toBe(ApprovalErrorCode.DigestMismatch);
      expect(r.events).toEqual([]);
    }
  });

  it('will not release a pending, denied or cancelled approval', () => {
    const { state, log } = open();
    const p = decide(claim(state), state);
    expect(!p.ok && p.error.code).toBe(ApprovalErrorCode.NotGranted);
    const c = run(state, { type: 'CancelApproval', data: { reason: 'run ended' }, now: at(500) }, log).state;
    expect(c).toMatchObject({ status: 'cancelled', reason: 'run ended' });
    const r = decide(claim(state), c);
    expect(!r.ok && r.error.code).toBe(ApprovalErrorCode.NotGranted);
  });

  it('the kill switch denies a pending approval and revokes an unused grant, not a consumed one', () => {
    const ks = { killSwitchId: uuidv7(), reason: 'runaway agent', engagedBy: 'oncall' };
    const { state, log } = open();
    const denied = run(state, { type: 'DenyByKillSwitch', data: ks, now: at(500) }, log).state;
    expect(denied).toMatchObject({ status: 'denied', denyCause: 'kill_switch', deniedBy: 'oncall' });
    const g = run(state, vote('alice', 'approve'), log).state;
    expect(run(g, { type: 'DenyByKillSwitch', data: ks, now: at(1500) }, log).state).toMatchObject({ status: 'denied' });
    const used = run(g, claim(state), log).state;
    const r = decide({ type: 'DenyByKillSwitch', data: ks, now: at(3000) }, used);
    expect(!r.ok && r.error.code).toBe(ApprovalErrorCode.AlreadyDecided);
  });

  it('refuses every command on an approval that does not exist, and a second request for the same id', () => {
    for (const c of [vote('alice', 'approve'), { type: 'ExpireApproval', now: t0 } as const]) {
      const r = decide(c, initialState);
      expect(!r.ok && r.error.code).toBe(ApprovalErrorCode.NotFound);
      expect(r.events).toEqual([]);
    }
    const { state } = open();
    const again = decide({ type: 'RequestApproval', data: state.request, now: at(1) }, state);
    expect(!again.ok && again.error.code).toBe(ApprovalErrorCode.AlreadyExists);
  });

  it('refuses to open an approval that is already past its deadline or has repeated roles', () => {
    const past = decide({ type: 'RequestApproval', data: requested({ expiresAt: t0.toISOString() }), now: t0 }, initialState);
    expect(!past.ok && past.error.code).toBe(ApprovalErrorCode.Invalid);
    const roles = decide({ type: 'RequestApproval', data: requested({ approverRoles: ['admin', 'admin'] }), now: t0 }, initialState);
    expect(!roles.ok && roles.error.code).toBe(ApprovalErrorCode.Invalid);
  });
});
