import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createEvent, type Action, type Decision, type EventEnvelope } from '@tameflare/contracts';
import { backtest, type RecordedDecision } from './backtest.ts';
import { compileBundle, type CompiledBundle } from './compile-bundle.ts';
import { decidedEventData } from './decision-event.ts';
import { evaluate } from './evaluate.ts';
import { buildInput } from './input.ts';
import { appendSessionEntry, computeSession, sessionEntryFor, sessionKey, type SessionEntry } from './session.ts';
import { requestedEvent } from './test-fixtures.ts';
import { rebuildSessions } from './rebuild-sessions.ts';
import { verifyDecisions } from './verify-decisions.ts';

const dir = new URL('../../../infra/policies/', import.meta.url);
const liveSource = readFileSync(new URL('default.yaml', dir), 'utf8');
const live = compileBundle(liveSource, { fileName: 'default.yaml', version: 4 });

// The candidate tightens refunds (3 per hour, approval above 20.00), denies merges by interns,
// and allows Slack messages and issue creation that the live bundle denied by default.
const candidateSource = liveSource
  .replace('session.refunds_last_hour >= 5', 'session.refunds_last_hour >= 3')
  .replace('action.params.amount > 5000', 'action.params.amount > 2000')
  .replace(
    '  - id: allow-reads',
    [
      '  - id: deny-intern-merge',
      '    effect: deny',
      '    match: { actions: [github.pr.merge], agents: ["intern-*"] }',
      '  - id: allow-chat',
      '    effect: allow',
      '    match: { actions: [slack.message.send, github.issue.create] }',
      '  - id: allow-reads',
    ].join('\n'),
  );
const candidate = compileBundle(candidateSource, { fileName: 'candidate.yaml' });

/** A deterministic pseudo-random generator, so the history is the same on every run. */
function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const T0 = Date.parse('2025-06-01T00:00:00.000Z');
const agents = ['support-1', 'support-2', 'intern-a', 'intern-b', 'ci-bot'];

function randomAction(rand: () => number): Action {
  const pick = rand();
  const base: Action = { type: 'x.y', connector: '', resource: null, params: {}, risk: 'write', notes: [] };
  const mk = (type: string, over: Partial<Action>): Action => ({ ...base, type, connector: type.split('.')[0]!, ...over });
  if (pick < 0.3) return mk('github.repo.get', { risk: 'read', resource: 'acme/app' });
  if (pick < 0.4) return mk('github.pr.merge', { resource: 'acme/app', params: { pull_number: Math.floor(rand() * 100) } });
  if (pick < 0.45) return mk('github.repo.delete', { risk: 'destructive', resource: 'acme/app' });
  if (pick < 0.75) {
    const params: Record<string, number | string> = { charge: 'ch_1' };
    if (rand() > 0.05) params.amount = Math.floor(rand() * 8000);
    return mk('stripe.refund.create', { params });
  }
  if (pick < 0.9) return mk('slack.message.send', { params: { channel: 'C1' } });
  return mk('github.issue.create', { resource: 'acme/app' });
}

/** Records a history the way the policy service does: session state per agent, allow-only entries. */
function recordHistory(bundle: CompiledBundle, count: number): RecordedDecision[] & { sessions: Map<string, SessionEntry[]> } {
  const rand = prng(42);
  const sessions = new Map<string, SessionEntry[]>();
  const out: RecordedDecision[] = [];
  let t = T0;
  for (let i = 0; i < count; i++) {
    t += Math.floor(rand() * 120_000) + 1;
    const agentId = agents[Math.floor(rand() * agents.length)]!;
    const runId = `01900000-0000-7000-8000-${String(agents.indexOf(agentId) * 10 + Math.floor((t - T0) / 86_400_000)).padStart(12, '0')}`;
    const requested = requestedEvent(randomAction(rand), { agentId, runId, time: new Date(t - 1) });
    if (i % 500 === 7) {
      // The kill switch decided this one before policy was consulted.
      const decided = createEvent(
        'ActionDecided',
        { ...decidedEventData(requested.data, buildInput(requested.data, new Date(t)), evaluate(live, buildInput(requested.data, new Date(t))), { mode: 'enforce', evaluationMicros: 0 }), decidedBy: 'kill_switch', policy: null },
        { correlationId: requested.data.actionId, source: 'ingress@1', time: new Date(t) },
      );
      out.push({ requested, decided });
      continue;
    }
    const base = buildInput(requested.data, new Date(t));
    const key = sessionKey(base.gatewayId, base.agent.id);
    const entries = sessions.get(key) ?? [];
    const input = { ...base, session: computeSession(bundle, bundle.sessionNeeds(base), entries, base) };
    const result = evaluate(bundle, input);
    if (result.decision === 'allow') {
      const e = sessionEntryFor(bundle, input, requested.data.actionId);
      if (e) sessions.set(key, appendSessionEntry(bundle, entries, e)!);
    }
    const decided = createEvent('ActionDecided', decidedEventData(requested.data, input, result, { mode: 'enforce', evaluationMicros: 3 }), {
      correlationId: requested.data.actionId,
      source: 'policy@test',
      time: new Date(t),
    });
    out.push({ requested, decided });
  }
  return Object.assign(out, { sessions });
}

/**
 * The expected backtest, computed independently: each action evaluated directly against the
 * candidate, with session values counted by brute force over the earlier actions the candidate
 * itself allowed.
 */
function directChanges(history: RecordedDecision[]): Map<string, { before: Decision; after: Decision }> {
  const allowed: { agent: string; run: string; at: number; amount: number }[] = [];
  const changes = new Map<string, { before: Decision; after: Decision }>();
  for (const { requested, decided } of history as { requested: EventEnvelope<'ActionRequested'>; decided: EventEnvelope<'ActionDecided'> }[]) {
    if (decided.data.decidedBy !== 'policy') continue;
    const at = Date.parse(decided.time);
    const r = requested.data;
    const isRefund = r.action.type === 'stripe.refund.create';
    const session: Record<string, number> = isRefund
      ? {
          refunds_last_hour: allowed.filter((a) => a.agent === r.agentId && a.at > at - 3_600_000).length,
          refunded_this_run: allowed.filter((a) => a.run === r.runId && a.at > at - 86_400_000).reduce((s, a) => s + a.amount, 0),
        }
      : {};
    const after = evaluate(candidate, buildInput(r, decided.time, session)).decision;
    if (isRefund && after === 'allow') {
      const amount = r.action.params.amount;
      allowed.push({ agent: r.agentId, run: r.runId, at, amount: typeof amount === 'number' ? amount : 0 });
    }
    if (after !== decided.data.decision) changes.set(r.actionId, { before: decided.data.decision, after });
  }
  return changes;
}

describe('backtest over recorded history', () => {
  const history = recordHistory(live, 12_000);

  it('reports exactly the decisions that would change on 12,000 recorded actions', async () => {
    async function* stream() {
      yield* history;
    }
    const report = await backtest(candidate, stream(), { maxChanges: 100_000 });
    const expected = directChanges(history);
    expect(report.total).toBe(12_000);
    expect(report.skipped).toEqual({ notPolicy: 24, invalid: 0, warmup: 0 });
    expect(report.evaluated).toBe(12_000 - 24);
    expect(report.changed).toBe(expected.size);
    expect(report.unchanged).toBe(report.evaluated - expected.size);
    expect(report.truncated).toBe(false);
    expect(new Map(report.changes.map((c) => [c.actionId, { before: c.before.decision, after: c.after.decision }]))).toEqual(expected);
    // Every kind of change this candidate makes shows up, in volume.
    for (const t of ['deny->allow', 'allow->deny', 'allow->require_approval', 'require_approval->deny']) expect(report.transitions[t]).toBeGreaterThan(20);
    expect(Object.values(report.transitions).reduce((a, b) => a + b, 0)).toBe(expected.size);
    const first = report.changes[0]!;
    expect(first.before.policyVersion).toBe(4);
    expect(first.after.reason.length).toBeGreaterThan(0);
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it('reports nothing for the bundle that recorded the history', async () => {
    const report = await backtest(compileBundle(liveSource), history);
    expect(report).toMatchObject({ changed: 0, evaluated: 12_000 - 24, transitions: {}, changes: [] });
  });

  it('reports from a start time, replaying earlier actions only to warm session windows', async () => {
    const from = new Date((history[6000]!.decided as EventEnvelope).time);
    const full = await backtest(candidate, history, { maxChanges: 100_000 });
    const later = await backtest(candidate, history, { reportFrom: from, maxChanges: 100_000 });
    const expected = full.changes.filter((c) => Date.parse(c.time) >= from.getTime()).map((c) => c.actionId);
    expect(later.changes.map((c) => c.actionId)).toEqual(expected);
    expect(later.skipped.warmup + later.evaluated + later.skipped.notPolicy).toBe(12_000);
    expect(later.period.from).toBe(from.toISOString());
  });

  it('cuts the list at maxChanges but counts every change', async () => {
    const report = await backtest(candidate, history, { maxChanges: 10 });
    expect(report.changes).toHaveLength(10);
    expect(report.truncated).toBe(true);
    expect(report.changed).toBe(directChanges(history).size);
  });

  it('skips pairs that are not valid recorded events', async () => {
    const [a, b] = history;
    const report = await backtest(candidate, [
      { requested: a!.requested, decided: b!.decided },
      { requested: { nope: true }, decided: a!.decided },
      { requested: a!.decided, decided: a!.requested },
      a!,
    ]);
    expect(report.skipped.invalid).toBe(3);
    expect(report.evaluated).toBe(1);
  });

  it('rebuilds the session state the deciding side kept, from the recorded decisions alone', async () => {
    const end = new Date((history.at(-1)!.decided as EventEnvelope).time);
    const rebuilt = await rebuildSessions(live, history, end);
    const expected = new Map<string, SessionEntry[]>();
    for (const [key, entries] of history.sessions) {
      const kept = entries.filter((e) => e.at > end.getTime() - live.maxWindowMs);
      if (kept.length) expected.set(key, kept);
    }
    expect(rebuilt.size).toBeGreaterThan(0);
    expect(rebuilt).toEqual(expected);
  });

  it('recomputes every recorded decision exactly from the events, and catches a tampered one', async () => {
    const resolve = (_gw: string, p: { version: number; hash: string }) => (p.version === 4 && p.hash === live.hash ? live : null);
    const report = await verifyDecisions(history, resolve);
    expect(report).toMatchObject({ total: 12_000, verified: 12_000 - 24, mismatches: [], skipped: { notPolicy: 24, invalid: 0, noBundle: 0, unknownBundle: 0 } });

    const { requested, decided } = history.find((h) => (h.decided as EventEnvelope<'ActionDecided'>).data.decision === 'deny' && (h.decided as EventEnvelope<'ActionDecided'>).data.decidedBy === 'policy')!;
    const d = decided as EventEnvelope<'ActionDecided'>;
    const flipped = { ...d, data: { ...d.data, decision: 'allow' as const } };
    const r = requested as EventEnvelope<'ActionRequested'>;
    const edited = { ...r, data: { ...r.data, action: { ...r.data.action, params: { ...r.data.action.params, extra: 1 } } } };
    const tampered = await verifyDecisions([{ requested, decided: flipped }, { requested: edited, decided }], resolve);
    expect(tampered.mismatches.map((m) => m.problem)).toEqual([
      'the bundle decides differently on the recorded input',
      'the input rebuilt from the recorded events has a different digest',
    ]);
  });
});
