import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { compileBundle } from './compile-bundle.ts';
import { PolicyErrorCode } from './errors.ts';
import { evaluate } from './evaluate.ts';
import { inputDigest } from './input.ts';
import { input } from './test-fixtures.ts';
import type { EvaluationInput } from './types.ts';

type RuleSpec = { id: string; effect: string; match: Record<string, string[]>; when?: string; reason?: string; approval?: unknown };
const bundle = (rules: RuleSpec[], extra: Record<string, unknown> = {}, options: { index?: boolean } = {}) =>
  compileBundle(stringify({ version: 1, ...extra, rules }), { fileName: 't.yaml', version: 7, ...options });

const effects = ['allow', 'deny', 'require_approval'] as const;

describe('precedence', () => {
  it('deny wins over require_approval, which wins over allow; the first rule of the winning effect decides', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...effects), { maxLength: 12 }), (list) => {
        const rules = list.map((effect, i) => ({ id: `r${i}`, effect, match: { actions: ['**'] } }));
        const result = evaluate(bundle(rules), input('github.pr.merge'));
        const winner = list.includes('deny') ? 'deny' : list.includes('require_approval') ? 'require_approval' : list.includes('allow') ? 'allow' : null;
        expect(result.decision).toBe(winner ?? 'deny');
        expect(result.decidingRule).toBe(winner ? `r${list.indexOf(winner)}` : null);
        expect(result.matchedRules).toEqual(list.map((_, i) => `r${i}`));
        expect(result.policy.version).toBe(7);
      }),
      { numRuns: 200 },
    );
  });

  it('denies by default when nothing matches, with the bundle default reason', () => {
    const b = bundle([{ id: 'gh', effect: 'allow', match: { actions: ['github.**'] } }], { default_reason: 'Nothing allows this here' });
    const r = evaluate(b, input('stripe.refund.create'));
    expect(r).toMatchObject({ decision: 'deny', decidingRule: null, matchedRules: [], reason: 'Nothing allows this here', error: null, approval: null });
  });

  it('returns the approval requirement of the deciding rule, with defaults filled in', () => {
    const b = bundle([
      { id: 'a', effect: 'require_approval', match: { actions: ['github.pr.merge'] }, approval: { timeout: '1h', approvers: ['admin'], quorum: 2 } },
      { id: 'b', effect: 'require_approval', match: { actions: ['github.pr.*'] } },
    ]);
    expect(evaluate(b, input('github.pr.merge')).approval).toEqual({ approverRoles: ['admin'], quorum: 2, timeoutMs: 3_600_000 });
    expect(evaluate(b, input('github.pr.close')).approval).toEqual({ approverRoles: ['approver', 'admin'], quorum: 1, timeoutMs: 300_000 });
    expect(evaluate(b, input('github.pr.close')).reason).toBe('Needs human approval (policy rule "b")');
  });
});

describe('match', () => {
  const b = bundle([
    { id: 'pr', effect: 'allow', match: { actions: ['github.pr.*'] } },
    { id: 'gh-all', effect: 'require_approval', match: { actions: ['github.**'], resources: ['acme/*'] } },
    { id: 'bot-only', effect: 'deny', match: { actions: ['**'], agents: ['bad-*'] } },
    { id: 'gw', effect: 'deny', match: { actions: ['stripe.**'], gateways: ['prod'] } },
    { id: 'conn', effect: 'allow', match: { actions: ['mcp.tool.*'], connectors: ['search'] } },
  ]);

  it('matches action globs by segment: * stays inside a segment, ** crosses segments', () => {
    expect(evaluate(b, input('github.pr.merge')).decidingRule).toBe('pr');
    expect(evaluate(b, input('github.pr.review.comment')).decidingRule).toBe(null);
    expect(evaluate(b, input('github.repo.get', { action: { resource: 'acme/app' } })).decidingRule).toBe('gh-all');
  });

  it('matches resources, agents, gateways and connectors', () => {
    expect(evaluate(b, input('github.repo.get', { action: { resource: 'other/app' } })).decision).toBe('deny');
    expect(evaluate(b, input('github.repo.get', { action: { resource: 'acme/app/x' } })).matchedRules).toEqual([]);
    expect(evaluate(b, input('github.pr.merge', { agent: { id: 'bad-bot', name: 'x' } })).decidingRule).toBe('bot-only');
    expect(evaluate(b, input('stripe.refund.create', { gatewayId: 'prod' })).decidingRule).toBe('gw');
    expect(evaluate(b, input('stripe.refund.create', { gatewayId: 'staging' })).decidingRule).toBe(null);
    expect(evaluate(b, input('mcp.tool.search', { action: { connector: 'search' } })).decision).toBe('allow');
    expect(evaluate(b, input('mcp.tool.search', { action: { connector: 'other' } })).decision).toBe('deny');
  });

  it('a resource glob never matches an action without a resource', () => {
    expect(evaluate(b, input('github.repo.get', { action: { resource: null } })).matchedRules).toEqual([]);
  });
});

describe('CEL conditions', () => {
  it('compares a parameter with a threshold exactly as written', () => {
    const b = bundle([
      { id: 'big', effect: 'require_approval', match: { actions: ['stripe.refund.create'] }, when: 'action.params.amount > 5000' },
      { id: 'any', effect: 'allow', match: { actions: ['stripe.refund.create'] } },
    ]);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), (amount) => {
        const r = evaluate(b, input('stripe.refund.create', { action: { params: { amount } } }));
        expect(r.decision).toBe(amount > 5000 ? 'require_approval' : 'allow');
      }),
      { numRuns: 300 },
    );
  });

  it('sees the agent, run, gateway, request, time (with time zones) and string helpers', () => {
    const b = bundle([
      {
        id: 'office-hours',
        effect: 'allow',
        match: { actions: ['**'] },
        when: [
          'now.getHours("Europe/Paris") >= 9 && now.getHours("Europe/Paris") < 18',
          'agent.name.lowerAscii().startsWith("agent")',
          'run.id.size() == 36 && gateway.id == "default"',
          'request.method == "POST" && request.port == 443 && request.host.endsWith(".example.com")',
          'glob(action.resource, "acme/*")',
        ].join(' && '),
      },
    ]);
    const base = { action: { resource: 'acme/app' } };
    expect(evaluate(b, input('github.pr.merge', { ...base, time: '2025-06-02T09:30:00.000Z' })).decision).toBe('allow');
    expect(evaluate(b, input('github.pr.merge', { ...base, time: '2025-06-02T17:30:00.000Z' })).decision).toBe('deny');
    expect(evaluate(b, input('github.pr.merge', { action: { resource: 'acme/app/sub' } })).decision).toBe('deny');
  });

  it('denies and records the error when a condition fails at run time', () => {
    const b = bundle([
      { id: 'needs-amount', effect: 'allow', match: { actions: ['stripe.refund.create'] }, when: 'action.params.amount < 100' },
      { id: 'later', effect: 'allow', match: { actions: ['stripe.**'] } },
    ]);
    const r = evaluate(b, input('stripe.refund.create', { action: { params: {} } }));
    expect(r.decision).toBe('deny');
    expect(r.decidingRule).toBe('needs-amount');
    expect(r.error?.code).toBe(PolicyErrorCode.Evaluation);
    expect(r.error?.message).toContain('rule "needs-amount"');
    expect(r.error?.message).toContain('amount');
    const wrongType = evaluate(b, input('stripe.refund.create', { action: { params: { amount: 'ten' } } }));
    expect(wrongType.decision).toBe('deny');
    expect(wrongType.error?.code).toBe(PolicyErrorCode.Evaluation);
  });

  it('reads variables the same whichever way a condition reaches them', () => {
    const cases: [string, boolean | 'error'][] = [
      ['action.operationId == null', true],
      ['action.params["amount"] == 12 && action["type"] == "x.y"', true],
      ['"amount" in action.params && size(action.params) == 3', true],
      ['action.params.tags.exists(t, t == "b") && action.params.tags[0] == "a"', true],
      ['has(action.params.amount) && !has(action.params.missing)', true],
      ['action.params.missing == 1', 'error'],
      ['action.params.amount.value == 1', 'error'],
      ['action.notes.size() == 0 && request.query == ""', true],
      ['session.n == 2.5', true],
    ];
    for (const [when, expected] of cases) {
      const b = bundle([{ id: 'r', effect: 'allow', match: { actions: ['**'] }, when }], { aggregates: { n: { scope: 'run', window: '1h', actions: ['x.y'], count: true } } });
      const r = evaluate(b, input('x.y', { action: { params: { amount: 12, tags: ['a', 'b'], flag: null } }, session: { n: 2.5 } }));
      expect([when, r.error ? 'error' : r.decision === 'allow']).toEqual([when, expected]);
    }
  });

  it('denies when a condition yields something other than a bool at run time', () => {
    const b = bundle([{ id: 'dyn', effect: 'allow', match: { actions: ['**'] }, when: 'action.params.flag' }]);
    expect(evaluate(b, input('x.y', { action: { params: { flag: true } } })).decision).toBe('allow');
    const r = evaluate(b, input('x.y', { action: { params: { flag: 'yes' } } }));
    expect(r.decision).toBe('deny');
    expect(r.error?.message).toContain('not a bool');
  });

  it('denies when a session aggregate a rule reads was not supplied', () => {
    const b = bundle([{ id: 'burst', effect: 'deny', match: { actions: ['stripe.refund.create'] }, when: 'session.n >= 5' }], {
      aggregates: { n: { scope: 'agent', window: '1h', actions: ['stripe.refund.create'], count: true } },
    });
    expect(evaluate(b, input('stripe.refund.create')).error?.code).toBe(PolicyErrorCode.SessionMissing);
    expect(evaluate(b, input('stripe.refund.create', { session: { n: 5 } })).decidingRule).toBe('burst');
    expect(evaluate(b, input('stripe.refund.create', { session: { n: 4 } })).decidingRule).toBe(null);
    expect(b.sessionNeeds(input('stripe.refund.create'))).toEqual(['n']);
    expect(b.sessionNeeds(input('github.pr.merge'))).toEqual([]);
  });
});

// Random bundles over a small vocabulary, so rules and inputs overlap often.
const providers = ['github', 'stripe', 'slack', 'mcp'];
const words = ['pr', 'repo', 'refund', 'merge', 'delete', 'get', 'create'];
const segment = fc.constantFrom(...words);
const actionType = fc.tuple(fc.constantFrom(...providers), segment, segment).map(([p, a, b]) => `${p}.${a}.${b}`);
const actionGlob = fc.oneof(
  actionType,
  fc.constantFrom(...providers).map((p) => `${p}.**`),
  fc.tuple(fc.constantFrom(...providers), segment).map(([p, s]) => `${p}.${s}.*`),
  fc.tuple(fc.constantFrom(...providers), segment).map(([p, s]) => `${p}.*.${s}`),
  segment.map((s) => `*.${s}.*`),
  fc.constant('**'),
);
const ruleArb = fc.record({
  effect: fc.constantFrom(...effects),
  actions: fc.array(actionGlob, { minLength: 1, maxLength: 3 }),
  agents: fc.option(fc.array(fc.constantFrom('a1', 'a2', 'a*'), { minLength: 1, maxLength: 2 }), { nil: undefined }),
  connectors: fc.option(fc.array(fc.constantFrom(...providers), { minLength: 1, maxLength: 2 }), { nil: undefined }),
  when: fc.option(fc.constantFrom('action.params.amount > 10', 'action.risk == "read"', 'has(action.params.amount)'), { nil: undefined }),
});
const inputArb = fc.record({
  type: actionType,
  agent: fc.constantFrom('a1', 'a2', 'b1'),
  amount: fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }),
  risk: fc.constantFrom('read', 'write', 'destructive'),
  time: fc.integer({ min: Date.UTC(2024, 0, 1), max: Date.UTC(2026, 0, 1) }),
});
type Spec = { effect: string; actions: string[]; agents?: string[] | undefined; connectors?: string[] | undefined; when?: string | undefined };
function toRules(specs: Spec[]): RuleSpec[] {
  return specs.map((s, i) => ({
    id: `r${i}`,
    effect: s.effect,
    match: { actions: s.actions, ...(s.agents ? { agents: s.agents } : {}), ...(s.connectors ? { connectors: s.connectors } : {}) },
    ...(s.when ? { when: s.when } : {}),
  }));
}
function toInput(i: { type: string; agent: string; amount: number | undefined; risk: string; time: number }): EvaluationInput {
  return input(i.type, {
    agent: { id: i.agent, name: i.agent },
    time: new Date(i.time).toISOString(),
    action: { params: i.amount === undefined ? {} : { amount: i.amount }, risk: i.risk as 'read' },
  });
}

describe('properties over random bundles', () => {
  it('the action-type index selects exactly the rules a full scan selects', () => {
    fc.assert(
      fc.property(fc.array(ruleArb, { maxLength: 40 }), fc.array(inputArb, { minLength: 1, maxLength: 20 }), (specs, inputs) => {
        const rules = toRules(specs);
        const indexed = bundle(rules);
        const scanned = bundle(rules, {}, { index: false });
        for (const i of inputs.map(toInput)) expect(evaluate(indexed, i)).toEqual(evaluate(scanned, i));
      }),
      { numRuns: 150 },
    );
  });

  it('the same input and bundle always give the same decision and digest, even recompiled', () => {
    fc.assert(
      fc.property(fc.array(ruleArb, { maxLength: 30 }), inputArb, (specs, raw) => {
        const source = stringify({ version: 1, rules: toRules(specs) });
        const a = compileBundle(source, { version: 3 });
        const b = compileBundle(source, { version: 3 });
        const i = toInput(raw);
        const first = evaluate(a, i);
        expect(evaluate(a, structuredClone(i))).toEqual(first);
        expect(evaluate(b, i)).toEqual(first);
        expect(inputDigest(structuredClone(i))).toBe(inputDigest(i));
        expect(a.hash).toBe(b.hash);
      }),
      { numRuns: 150 },
    );
  });

  it('with no rule matching (and no condition failing), the decision is deny with no deciding rule', () => {
    fc.assert(
      fc.property(fc.array(ruleArb, { maxLength: 20 }), inputArb, (specs, raw) => {
        const i = toInput(raw);
        const b = bundle(toRules(specs));
        const r = evaluate(b, i);
        if (r.error) expect(r).toMatchObject({ decision: 'deny', error: { code: PolicyErrorCode.Evaluation } });
        else if (r.matchedRules.length === 0) expect(r).toMatchObject({ decision: 'deny', decidingRule: null, reason: 'No policy rule allows this action' });
        else expect(r.matchedRules).toContain(r.decidingRule);
      }),
      { numRuns: 150 },
    );
  });
});
