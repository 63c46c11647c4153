import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileBundle } from './compile-bundle.ts';
import { formatIssue, PolicyErrorCode, PolicyInvalidError } from './errors.ts';
import { parsePolicyTests, runPolicyTests } from './policy-tests.ts';

const dir = new URL('../../../infra/policies/', import.meta.url);
const defaultBundle = compileBundle(readFileSync(new URL('default.yaml', dir), 'utf8'), { fileName: 'default.yaml' });

describe('tf policy test', () => {
  it('runs the default bundle cases shipped with it, all passing', () => {
    const suite = parsePolicyTests(readFileSync(new URL('default.test.yaml', dir), 'utf8'), 'default.test.yaml');
    expect(suite.policy).toBe('./default.yaml');
    const report = runPolicyTests(defaultBundle, suite);
    expect(report.cases.filter((c) => !c.ok)).toEqual([]);
    expect(report).toMatchObject({ ok: true, total: 12, passed: 12, failed: 0, policy: { hash: defaultBundle.hash, rules: 7 } });
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it('reports each expectation that does not hold, with the actual decision', () => {
    const suite = parsePolicyTests(
      [
        'cases:',
        '  - name: wrong decision',
        '    input: { action: { type: github.repo.delete, risk: destructive } }',
        '    expect: { decision: allow }',
        '  - name: wrong rule and matched list',
        '    input: { action: { type: github.repo.get, risk: read } }',
        '    expect: { decision: allow, rule: something-else, matched: [] }',
        '  - name: session name the bundle does not declare',
        '    input: { action: { type: github.repo.get, risk: read }, session: { nope: 1 } }',
        '    expect: { decision: allow }',
        '  - name: an evaluation error was expected',
        '    input: { action: { type: stripe.refund.create, params: { amount: "x" } } }',
        '    expect: { decision: deny, error: true }',
        '',
      ].join('\n'),
      'mine.test.yaml',
    );
    const report = runPolicyTests(defaultBundle, suite);
    expect(report).toMatchObject({ ok: false, total: 4, passed: 1, failed: 3 });
    expect(report.cases.map((c) => c.failures)).toEqual([
      ['expected allow, got deny (rule "deny-repo-delete")'],
      ['expected deciding rule "something-else", got "allow-reads"', 'expected matched rules [], got [allow-reads]'],
      ['session.nope is not an aggregate of this bundle'],
      [],
    ]);
    expect(report.cases[0]).toMatchObject({ line: 2, actual: { decision: 'deny', decidingRule: 'deny-repo-delete', reason: 'Repository deletion is not allowed through agents' } });
    expect(report.cases[3]!.actual.error?.code).toBe(PolicyErrorCode.Evaluation);
  });

  it('refuses a malformed test file with file, line and column for every problem', () => {
    const source = [
      'polcy: ./x.yaml',
      'cases:',
      '  - name: a',
      '    input: { action: { type: GitHub, risk: dangerous }, agnt: { id: x } }',
      '    expect: { decision: maybe }',
      '  - name: b',
      '    input: { action: { type: x.y }, run: not-a-uuid, time: yesterday }',
      '    expect: { decison: deny }',
      '',
    ].join('\n');
    let thrown: unknown;
    try {
      parsePolicyTests(source, 't.yaml');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(PolicyInvalidError);
    const e = thrown as PolicyInvalidError;
    expect(e.code).toBe(PolicyErrorCode.TestsInvalid);
    expect(e.issues.map(formatIssue)).toEqual([
      't.yaml:1:1: unknown field "polcy" in the test file (did you mean "policy"?); allowed: policy, defaults, cases',
      "t.yaml:4:22: action is not valid at /type: Expected string to match '^[a-z0-9_]+(\\.[A-Za-z0-9_:/-]+)+$'",
      't.yaml:4:57: unknown field "agnt" in input (did you mean "agent"?); allowed: action, agent, gateway, run, time, request, session',
      't.yaml:5:25: decision must be allow, deny or require_approval',
      't.yaml:7:42: run must be a run id (a UUID)',
      't.yaml:7:60: time must be an ISO 8601 time such as 2025-01-06T10:00:00Z',
      't.yaml:8:5: expect is missing required field "decision"',
      't.yaml:8:15: unknown field "decison" in expect (did you mean "decision"?); allowed: decision, rule, matched, error',
    ]);
  });
});
