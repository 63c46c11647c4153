import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { uuidv7, type EventData, type Role } from '@tameflare/contracts';
import { decide, fold, initialState, voterKey, type ApprovalCommand, type ApprovalEvent, type ApprovalState, type OpenedApproval } from './index.ts';

const t0 = Date.parse('2030-01-01T00:00:00.000Z');
const roles: Role[] = ['viewer', 'approver', 'admin'];
const digest = 'd'.repeat(64);
const runId = uuidv7();

type Step =
  | { k: 'vote'; dt: number; voter: string; role: Role; vote: 'approve' | 'deny' }
  | { k: 'claim'; dt: number; goodDigest: boolean; goodRun: boolean }
  | { k: 'expire' | 'kill' | 'cancel'; dt: number };

const dt = fc.integer({ min: 0, max: 1500 });
/** Mostly the approved request, sometimes another one. */
const mostly = fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) });
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ k: fc.constant('vote' as const), dt, voter: fc.constantFrom('alice', 'Alice ', 'bob', 'carol', 'dave'), role: fc.constantFrom(...roles), vote: fc.constantFrom('approve', 'approve', 'approve', 'deny') as fc.Arbitrary<'approve' | 'deny'> }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('claim' as const), dt, goodDigest: mostly, goodRun: mostly }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constantFrom('expire', 'kill', 'cancel') as fc.Arbitrary<'expire' | 'kill' | 'cancel'>, dt }) },
);
const setup = fc.record({
  approverRoles: fc.subarray(roles, { minLength: 1 }),
  quorum: fc.integer({ min: 1, max: 3 }),
  timeoutMs: fc.integer({ min: 1000, max: 6000 }),
});

function requested(s: { approverRoles: Role[]; quorum: number; timeoutMs: number }): EventData<'ApprovalRequested'> {
  return {
    approvalId: uuidv7(),
    actionId: uuidv7(),
    gatewayId: 'default',
    agentId: 'bot',
    runId,
    agentName: 'bot',
    requestDigest: digest,
    request: { method: 'POST', url: 'https://api.stripe.com/v1/payouts', action: { type: 'stripe.payout.create', connector: 'stripe', resource: null, params: {}, risk: 'write', notes: [] }, bodyDigest: null },
    ruleId: 'r',
    reason: 'r',
    approverRoles: s.approverRoles,
    quorum: s.quorum,
    timeoutMs: s.timeoutMs,
    expiresAt: new Date(t0 + s.timeoutMs).toISOString(),
  };
}

function toCommand(st: Step, now: Date): ApprovalCommand {
  switch (st.k) {
    case 'vote':
      return { type: 'CastVote', data: { voter: st.voter, voterRole: st.role, vote: st.vote, comment: null, channel: 'cli' }, now };
    case 'claim':
      return {
        type: 'ConsumeApproval',
        data: { releasedActionId: uuidv7(), runId: st.goodRun ? runId : uuidv7(), requestDigest: st.goodDigest ? digest : 'e'.repeat(64), ingressId: 'i' },
        now,
      };
    case 'expire':
      return { type: 'ExpireApproval', now };
    case 'kill':
      return { type: 'DenyByKillSwitch', data: { killSwitchId: uuidv7(), reason: 'stop', engagedBy: 'ops' }, now };
    case 'cancel':
      return { type: 'CancelApproval', data: { reason: 'run ended' }, now };
  }
}

/** Runs a scenario the way the service does and returns the full log and every decision. */
function play(s: { approverRoles: Role[]; quorum: number; timeoutMs: number }, steps: Step[]) {
  const req = requested(s);
  const first = decide({ type: 'RequestApproval', data: req, now: new Date(t0) }, initialState);
  if (!first.ok) throw first.error;
  const log: ApprovalEvent[] = [...first.events];
  let state: ApprovalState = fold(first.events);
  let now = t0;
  const decisions = [];
  for (const st of steps) {
    now += st.dt;
    const d = decide(toCommand(st, new Date(now)), state);
    decisions.push({ step: st, decision: d, before: state });
    log.push(...d.events);
    state = fold(d.events, state);
  }
  return { req, log, state, decisions };
}

const terminal = new Set(['ApprovalDenied', 'ApprovalExpired', 'ApprovalCancelled', 'ApprovalConsumed']);

describe('approval aggregate properties', () => {
  it('never releases twice, never grants without a quorum of distinct allowed approvers, never acts after the end', () => {
    const seen = { granted: 0, consumed: 0, denied: 0, expired: 0 };
    fc.assert(
      fc.property(setup, fc.array(step, { maxLength: 25 }), (s, steps) => {
        const { req, log } = play(s, steps);
        if (log.some((e) => e.type === 'ApprovalGranted')) seen.granted++;
        if (log.some((e) => e.type === 'ApprovalConsumed')) seen.consumed++;
        if (log.some((e) => e.type === 'ApprovalDenied')) seen.denied++;
        if (log.some((e) => e.type === 'ApprovalExpired')) seen.expired++;
        expect(log.filter((e) => e.type === 'ApprovalConsumed').length).toBeLessThanOrEqual(1);
        const approvers = new Set<string>();
        const voters = new Set<string>();
        let grantedAt: number | null = null;
        let ended = false;
        for (const e of log) {
          const at = Date.parse(e.time);
          // After a denial, expiry, cancellation or release only refused votes are still recorded.
          if (ended) expect(e.type).toBe('ApprovalVoteRefused');
          switch (e.type) {
            case 'ApprovalVoteRecorded':
              expect(req.approverRoles).toContain(e.data.voterRole);
              expect(voters.has(voterKey(e.data.voter))).toBe(false);
              expect(grantedAt).toBeNull();
              expect(at).toBeLessThan(Date.parse(req.expiresAt));
              voters.add(voterKey(e.data.voter));
              if (e.data.vote === 'approve') approvers.add(voterKey(e.data.voter));
              break;
            case 'ApprovalGranted':
              expect(approvers.size).toBeGreaterThanOrEqual(req.quorum);
              expect(new Set(e.data.approvers.map(voterKey))).toEqual(approvers);
              expect(at).toBeLessThan(Date.parse(req.expiresAt));
              grantedAt = at;
              break;
            case 'ApprovalConsumed':
              expect(grantedAt).not.toBeNull();
              expect(at).toBeLessThan(grantedAt! + req.timeoutMs);
              break;
            case 'ApprovalDenied':
            case 'ApprovalCancelled':
              if (e.type === 'ApprovalCancelled') expect(grantedAt).toBeNull();
              break;
            default:
              break;
          }
          if (terminal.has(e.type)) ended = true;
        }
      }),
      { numRuns: 2000 },
    );
    // The generators must actually reach every outcome, or the properties above say nothing.
    for (const n of Object.values(seen)) expect(n).toBeGreaterThan(50);
  });

  it('a refusal never records anything but the refused vote or a due expiry, and never moves status otherwise', () => {
    fc.assert(
      fc.property(setup, fc.array(step, { maxLength: 25 }), (s, steps) => {
        for (const { decision, before } of play(s, steps).decisions) {
          if (decision.ok) continue;
          expect(decision.error.code).toMatch(/^TF_ERR_APPROVAL_/);
          for (const e of decision.events) expect(['ApprovalVoteRefused', 'ApprovalExpired']).toContain(e.type);
          const after = fold(decision.events, before);
          if (before.exists && after.exists && after.status !== before.status) expect(after.status).toBe('expired');
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('only the matching request is released, and a release happens iff granted, in time and unclaimed', () => {
    fc.assert(
      fc.property(setup, fc.array(step, { maxLength: 25 }), (s, steps) => {
        for (const { step: st, decision, before } of play(s, steps).decisions) {
          if (st.k !== 'claim') continue;
          const b = before as OpenedApproval;
          const now = Date.parse(decision.events[0]?.time ?? new Date(0).toISOString());
          const releasable = b.status === 'granted' && st.goodDigest && st.goodRun;
          if (decision.ok) {
            expect(releasable).toBe(true);
            expect(now).toBeLessThan(Date.parse(b.grantedAt!) + b.request.timeoutMs);
          } else {
            expect(decision.events.some((e) => e.type === 'ApprovalConsumed')).toBe(false);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('replaying the recorded log rebuilds exactly the state the commands produced', () => {
    fc.assert(
      fc.property(setup, fc.array(step, { maxLength: 25 }), (s, steps) => {
        const { log, state } = play(s, steps);
        expect(fold(log)).toEqual(state);
        expect(state.version).toBe(log.length);
      }),
      { numRuns: 500 },
    );
  });

  it('two replicas racing on the same version: the loser, re-deciding on the new state, cannot claim again', () => {
    let raced = 0;
    fc.assert(
      fc.property(setup, fc.array(step, { maxLength: 15 }), (s, steps) => {
        const { state } = play(s, steps);
        if (!state.exists || state.status !== 'granted') return;
        const claim = toCommand({ k: 'claim', dt: 0, goodDigest: true, goodRun: true }, new Date(Date.parse(state.grantedAt!)));
        const a = decide(claim, state);
        const b = decide(claim, state);
        expect(a.ok && b.ok).toBe(true);
        const retried = decide(claim, fold(a.events, state));
        expect(retried.ok).toBe(false);
        raced++;
      }),
      { numRuns: 1000 },
    );
    expect(raced).toBeGreaterThan(20);
  });
});
