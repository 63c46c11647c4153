import { TypeCompiler } from '@sinclair/typebox/compiler';
import { isMap, isScalar, isSeq, type Node } from 'yaml';
import { ActionSchema, DecisionSchema, type Action, type Decision } from '@tameflare/contracts';
import type { CompiledBundle } from './compile-bundle.ts';
import { PolicyErrorCode, PolicyInvalidError } from './errors.ts';
import { evaluate } from './evaluate.ts';
import type { EvaluationInput, EvaluationResult } from './types.ts';
import { createYamlReader, join, readMap, readString, type Entry, type YamlReader } from './yaml-reader.ts';

/** One case of a `tf policy test` file: an input and what the bundle must decide. */
export interface PolicyTestCase {
  name: string;
  line: number;
  input: EvaluationInput;
  /** Session values given by the case; aggregates it does not give are 0. */
  givenSession: Record<string, number>;
  expect: { decision: Decision; rule?: string | null; matched?: string[]; error?: boolean };
}

/** A parsed test file. */
export interface PolicyTestSuite {
  file: string;
  /** The bundle the file tests (`policy:`), relative to the test file, or null when not named. */
  policy: string | null;
  cases: PolicyTestCase[];
}

/** The result of one case. JSON-serializable. */
export interface PolicyTestCaseResult {
  name: string;
  line: number;
  ok: boolean;
  /** One sentence per expectation that did not hold. */
  failures: string[];
  expected: PolicyTestCase['expect'];
  actual: Pick<EvaluationResult, 'decision' | 'decidingRule' | 'matchedRules' | 'reason' | 'error'>;
}

/** The result of `tf policy test`. JSON-serializable (`--json`). */
export interface PolicyTestReport {
  ok: boolean;
  file: string;
  policy: { hash: string; rules: number };
  total: number;
  passed: number;
  failed: number;
  cases: PolicyTestCaseResult[];
}

const TOP = ['policy', 'defaults', 'cases'] as const;
const INPUT = ['action', 'agent', 'gateway', 'run', 'time', 'request', 'session'] as const;
const CASE = ['name', 'input', 'expect'] as const;
const EXPECT = ['decision', 'rule', 'matched', 'error'] as const;
const ACTION = ['type', 'connector', 'resource', 'params', 'risk', 'operationId', 'notes'] as const;
const AGENT = ['id', 'name'] as const;
const REQUEST = ['method', 'scheme', 'host', 'port', 'path', 'query'] as const;
const actionCheck = TypeCompiler.Compile(ActionSchema);
const decisionCheck = TypeCompiler.Compile(DecisionSchema);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const DEFAULT_INPUT = {
  agent: { id: 'test-agent', name: 'test-agent' },
  gateway: 'default',
  run: '00000000-0000-7000-8000-000000000000',
  time: '2025-01-01T12:00:00.000Z',
  request: { method: 'POST', scheme: 'https', host: 'example.com', port: 443, path: '/', query: '' },
};

/**
 * Parses a test file. Every field is checked; unknown fields and malformed inputs are
 * reported with file, line and column.
 *
 * @throws PolicyInvalidError (`TF_ERR_POLICY_TESTS_INVALID`) listing every problem.
 */
export function parsePolicyTests(source: string, fileName = 'policy.test.yaml'): PolicyTestSuite {
  const r = createYamlReader(source, fileName);
  const fail = () => new PolicyInvalidError(r.issues.sort((a, b) => a.line - b.line || a.col - b.col), { code: PolicyErrorCode.TestsInvalid });
  if (r.issues.length) throw fail();
  const top = readMap(r, r.root, '', 'the test file', TOP, ['cases']);
  if (!top) throw fail();
  const policy = readString(r, top.get('policy'), 'policy', 'policy', { max: 1000 });
  const defaults = top.get('defaults') ? readInputFields(r, top.get('defaults')!.value, 'defaults', 'defaults', top.get('defaults')!.key) : {};
  const cases: PolicyTestCase[] = [];
  const seq = top.get('cases')?.value;
  if (!isSeq(seq) || seq.items.length === 0) {
    r.issue(seq ?? top.get('cases')?.key, 'cases', 'cases must be a non-empty list');
  } else {
    seq.items.forEach((item, i) => {
      const c = readCase(r, item as Node, join('cases', i), defaults ?? {});
      if (c) cases.push(c);
    });
  }
  if (r.issues.length) throw fail();
  return { file: fileName, policy, cases };
}

type InputFields = Partial<Record<(typeof INPUT)[number], { value: unknown; node: Node | null }>>;

function readInputFields(r: YamlReader, node: Node | null, path: string, what: string, at: Node): InputFields | null {
  const f = readMap(r, node, path, what, INPUT, [], at);
  if (!f) return null;
  const out: InputFields = {};
  const nested = (e: Entry | undefined, key: string, allowed: readonly string[]) => {
    if (e) readMap(r, e.value, join(path, key), `${what}.${key}`, allowed, [], e.key);
  };
  nested(f.get('action'), 'action', ACTION);
  nested(f.get('agent'), 'agent', AGENT);
  nested(f.get('request'), 'request', REQUEST);
  const session = f.get('session');
  if (session) {
    if (!isMap(session.value)) r.issue(session.value ?? session.key, join(path, 'session'), 'session must map aggregate names to numbers');
    else {
      for (const p of session.value.items) {
        if (!isScalar(p.value) || typeof p.value.value !== 'number') r.issue((p.value ?? p.key) as Node, join(path, 'session'), 'session values must be numbers');
      }
    }
  }
  for (const [k, e] of f) out[k as keyof InputFields] = { value: e.value && 'toJSON' in e.value ? (e.value as { toJSON(): unknown }).toJSON() : null, node: e.value };
  return out;
}

function readCase(r: YamlReader, node: Node, path: string, defaults: InputFields): PolicyTestCase | null {
  const before = r.issues.length;
  const f = readMap(r, node, path, 'test case', CASE, ['name', 'input', 'expect']);
  if (!f) return null;
  const name = readString(r, f.get('name'), join(path, 'name'), 'name', { max: 500 }) ?? '';
  const fields = readInputFields(r, f.get('input')!.value, join(path, 'input'), 'input', f.get('input')!.key);
  const ex = readMap(r, f.get('expect')!.value, join(path, 'expect'), 'expect', EXPECT, ['decision'], f.get('expect')!.key);
  if (!fields || !ex) return null;
  const all: InputFields = { ...defaults, ...fields };
  const pick = <T>(k: keyof InputFields): T | undefined => all[k]?.value as T | undefined;

  const rawAction = pick<Record<string, unknown>>('action');
  let action: Action | null = null;
  if (!rawAction) r.issue(f.get('input')!.value, join(path, 'input'), 'input is missing required field "action"');
  else {
    const type = typeof rawAction.type === 'string' ? rawAction.type : '';
    const candidate = {
      connector: type.split('.')[0],
      resource: null,
      params: {},
      risk: 'write',
      notes: [],
      ...rawAction,
    };
    if (!actionCheck.Check(candidate)) {
      const e = actionCheck.Errors(candidate).First();
      r.issue(all.action?.node, join(join(path, 'input'), 'action'), `action is not valid at ${e?.path || '/'}: ${e?.message ?? 'invalid'}`);
    } else action = candidate as Action;
  }
  const rawAgent = pick<{ id?: unknown; name?: unknown }>('agent') ?? DEFAULT_INPUT.agent;
  const agentId = typeof rawAgent.id === 'string' ? rawAgent.id : DEFAULT_INPUT.agent.id;
  const agent = { id: agentId, name: typeof rawAgent.name === 'string' ? rawAgent.name : agentId };
  const gateway = pick<unknown>('gateway') ?? DEFAULT_INPUT.gateway;
  const run = pick<unknown>('run') ?? DEFAULT_INPUT.run;
  const time = pick<unknown>('time') ?? DEFAULT_INPUT.time;
  if (typeof gateway !== 'string') r.issue(all.gateway?.node, join(path, 'input.gateway'), 'gateway must be a gateway id');
  if (typeof run !== 'string' || !UUID.test(run)) r.issue(all.run?.node, join(path, 'input.run'), 'run must be a run id (a UUID)');
  if (typeof time !== 'string' || Number.isNaN(Date.parse(time))) r.issue(all.time?.node, join(path, 'input.time'), 'time must be an ISO 8601 time such as 2025-01-06T10:00:00Z');
  const request = { ...DEFAULT_INPUT.request, ...(pick<Record<string, unknown>>('request') ?? {}) };
  const session = pick<Record<string, number>>('session') ?? {};

  const decision = readString(r, ex.get('decision'), join(path, 'expect.decision'), 'decision');
  if (decision !== null && !decisionCheck.Check(decision)) r.issue(ex.get('decision')!.value, join(path, 'expect.decision'), 'decision must be allow, deny or require_approval');
  const expect: PolicyTestCase['expect'] = { decision: decision as Decision };
  const rule = ex.get('rule');
  if (rule) {
    if (isScalar(rule.value) && rule.value.value === null) expect.rule = null;
    else expect.rule = readString(r, rule, join(path, 'expect.rule'), 'rule');
  }
  const matched = ex.get('matched');
  if (matched) {
    const v = matched.value && 'toJSON' in matched.value ? (matched.value as { toJSON(): unknown }).toJSON() : null;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) r.issue(matched.value ?? matched.key, join(path, 'expect.matched'), 'matched must be a list of rule ids ([] for none)');
    else expect.matched = v as string[];
  }
  const error = ex.get('error');
  if (error) {
    if (!isScalar(error.value) || typeof error.value.value !== 'boolean') r.issue(error.value ?? error.key, join(path, 'expect.error'), 'error must be true or false');
    else expect.error = error.value.value;
  }
  if (r.issues.length > before || !action) return null;
  return {
    name,
    line: r.position(node.range?.[0] ?? 0).line,
    input: {
      action,
      agent,
      runId: run as string,
      gatewayId: gateway as string,
      request: request as EvaluationInput['request'],
      time: new Date(time as string).toISOString(),
      session: {},
    },
    givenSession: session,
    expect,
  };
}

/** Runs every case of a suite against a bundle. */
export function runPolicyTests(bundle: CompiledBundle, suite: PolicyTestSuite): PolicyTestReport {
  const cases = suite.cases.map((c): PolicyTestCaseResult => {
    const session: Record<string, number> = {};
    for (const name of bundle.sessionNeeds(c.input)) session[name] = c.givenSession[name] ?? 0;
    const result = evaluate(bundle, { ...c.input, session });
    const failures: string[] = [];
    const declared = new Set(bundle.document.aggregates.map((a) => a.name));
    for (const name of Object.keys(c.givenSession)) {
      if (!declared.has(name)) failures.push(`session.${name} is not an aggregate of this bundle`);
    }
    if (result.decision !== c.expect.decision) {
      failures.push(`expected ${c.expect.decision}, got ${result.decision}${result.decidingRule ? ` (rule "${result.decidingRule}")` : ' (no rule matched: default deny)'}${result.error ? `: ${result.error.message}` : ''}`);
    }
    if (c.expect.rule !== undefined && result.decidingRule !== c.expect.rule) {
      failures.push(`expected deciding rule ${c.expect.rule === null ? 'none (default deny)' : `"${c.expect.rule}"`}, got ${result.decidingRule === null ? 'none' : `"${result.decidingRule}"`}`);
    }
    if (c.expect.matched && c.expect.matched.join('\n') !== result.matchedRules.join('\n')) {
      failures.push(`expected matched rules [${c.expect.matched.join(', ')}], got [${result.matchedRules.join(', ')}]`);
    }
    if (c.expect.error !== undefined && (result.error !== null) !== c.expect.error) {
      failures.push(c.expect.error ? 'expected an evaluation error, got none' : `unexpected evaluation error: ${result.error?.message}`);
    }
    const { decision, decidingRule, matchedRules, reason, error } = result;
    return { name: c.name, line: c.line, ok: failures.length === 0, failures, expected: c.expect, actual: { decision, decidingRule, matchedRules, reason, error } };
  });
  const passed = cases.filter((c) => c.ok).length;
  return {
    ok: passed === cases.length,
    file: suite.file,
    policy: { hash: bundle.hash, rules: bundle.ruleCount },
    total: cases.length,
    passed,
    failed: cases.length - passed,
    cases,
  };
}
