import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isTameFlareError } from '@tameflare/contracts';
import { checkBundle } from './check-bundle.ts';
import { bundleHash, compileBundle } from './compile-bundle.ts';
import { formatIssue, PolicyErrorCode, PolicyInvalidError } from './errors.ts';
import type { ActionCatalog } from './types.ts';

const lines = (source: string, catalog?: ActionCatalog) => checkBundle(source, { fileName: 'p.yaml', ...(catalog ? { catalog } : {}) }).issues.map(formatIssue);

describe('check refuses bad bundles with file, line and column for every error', () => {
  it('invalid YAML', () => {
    expect(lines('version: 1\nrules: [\n  - id: a\n')).toEqual([
      'p.yaml:3:3: invalid YAML: Block collections are not allowed within flow collections',
      'p.yaml:4:1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ]);
    expect(lines('version: 1\nrules: []\nrules: []\n')).toEqual(['p.yaml:3:1: invalid YAML: duplicate key: a mapping cannot repeat a key']);
    expect(lines('')).toEqual(['p.yaml:1:1: the policy file is empty: it needs at least "version: 1" and "rules:"']);
    expect(lines('- a\n- b\n')).toEqual(['p.yaml:1:1: the policy bundle must be a mapping (key: value lines)']);
  });

  it('unknown fields, with a suggestion', () => {
    expect(lines('version: 1\nrule: []\n')).toEqual([
      'p.yaml:1:1: the policy bundle is missing required field "rules"',
      'p.yaml:2:1: unknown field "rule" in the policy bundle (did you mean "rules"?); allowed: version, name, description, default_reason, aggregates, rules',
    ]);
    const src = 'version: 1\nrules:\n  - id: a\n    effect: deny\n    match: { actions: [x.y], agent: [b] }\n    reasn: no\n';
    expect(lines(src)).toEqual([
      'p.yaml:5:30: unknown field "agent" in the match of rule "a" (did you mean "agents"?); allowed: actions, agents, gateways, connectors, resources',
      'p.yaml:6:5: unknown field "reasn" in rule 1 (did you mean "reason"?); allowed: id, description, effect, match, when, reason, approval',
    ]);
  });

  it('a rule with no effect, or a wrong one', () => {
    expect(lines('version: 1\nrules:\n  - id: a\n    match: { actions: [x.y] }\n')).toEqual(['p.yaml:3:5: rule 1 is missing required field "effect"']);
    expect(lines('version: 1\nrules:\n  - id: a\n    effect: requires_approval\n    match: { actions: [x.y] }\n')).toEqual([
      'p.yaml:4:13: effect "requires_approval" is not one of allow, deny, require_approval (did you mean "require_approval"?)',
    ]);
    expect(lines('version: 1\nrules:\n  - id: a\n    effect: 1\n    match: { actions: [x.y] }\n')).toEqual(['p.yaml:4:13: effect must be text']);
  });

  it('CEL that does not compile or refers to an unknown field, pointing into the expression', () => {
    const src = [
      'version: 1',
      'rules:',
      '  - id: a',
      '    effect: deny',
      '    match: { actions: [x.y] }',
      '    when: action.params.amount >',
      '  - id: b',
      '    effect: deny',
      '    match: { actions: [x.y] }',
      '    when: "action.amount > 1"',
      '  - id: c',
      '    effect: deny',
      '    match: { actions: [x.y] }',
      '    when: |',
      '      action.type == "x" &&',
      '        sesion.total > 3',
      '  - id: d',
      '    effect: deny',
      '    match: { actions: [x.y] }',
      "    when: action.type.startsWith('x', 2)",
      '  - id: e',
      '    effect: deny',
      '    match: { actions: [x.y] }',
      '    when: size(action.type)',
      '',
    ].join('\n');
    expect(lines(src)).toEqual([
      'p.yaml:6:32: rule "a": CEL syntax error: found > but expecting end of input',
      'p.yaml:10:19: rule "b": unknown field "action.amount"; known fields: type, connector, resource, params, risk, operationId, notes',
      'p.yaml:16:9: rule "c": unknown variable "sesion" (did you mean "session"?); conditions can use action, agent, run, gateway, request, now, session',
      'p.yaml:20:22: rule "d": no form of "startsWith" takes a receiver and 2 argument(s); it is used as string.startsWith(string)',
      'p.yaml:24:11: rule "e": a condition must be true or false, but this one yields an int',
    ]);
  });

  it('session fields must be declared aggregates', () => {
    const src = 'version: 1\naggregates:\n  refunds:\n    scope: agent\n    window: 1h\n    actions: [stripe.refund.create]\n    count: true\nrules:\n  - id: a\n    effect: deny\n    match: { actions: [x.y] }\n    when: session.refund > 1\n';
    expect(lines(src)).toEqual(['p.yaml:12:19: rule "a": unknown field "session.refund" (did you mean "refunds"?); known fields: refunds']);
    expect(lines(src.replace(/aggregates:[\s\S]*count: true\n/, ''))).toEqual(['p.yaml:6:19: rule "a": unknown field "session.refund": the bundle declares no aggregates']);
  });

  it('globs that match nothing', () => {
    const src = 'version: 1\nrules:\n  - id: a\n    effect: deny\n    match:\n      actions: [github, "GitHub.repo.delete"]\n      agents: [Bot]\n';
    expect(lines(src)).toEqual([
      'p.yaml:6:17: action glob "github" matches nothing: action types have at least two segments; use "github.**" to match every github action',
      'p.yaml:6:25: action glob "GitHub.repo.delete" matches nothing: action types start with a lowercase provider (such as "github")',
      'p.yaml:7:16: agent "Bot" matches nothing: ids are lowercase letters, digits, "-" and "_" (at most 63)',
    ]);
  });

  it('globs that match no known connector or action type, when the catalog is given', () => {
    const catalog: ActionCatalog = {
      connectors: [
        { id: 'github', actionTypes: ['github.repo.delete', 'github.pr.merge', 'github.pr.create'] },
        { id: 'mcp', actionTypes: ['mcp.tool.*'] },
      ],
    };
    const src = [
      'version: 1',
      'rules:',
      '  - id: a',
      '    effect: deny',
      '    match:',
      '      actions: [github.pull.merge, github.*, mcp.tool.search, github.pr.*]',
      '      connectors: [github, gitlab]',
      '',
    ].join('\n');
    expect(lines(src, catalog)).toEqual([
      'p.yaml:6:17: action glob "github.pull.merge" matches no known action type of connectors github, gitlab; known github actions look like github.repo.delete, github.pr.merge, github.pr.create; "github.**" matches all of them',
      'p.yaml:6:36: action glob "github.*" matches no known action type of connectors github, gitlab; known github actions look like github.repo.delete, github.pr.merge, github.pr.create; "github.**" matches all of them',
      'p.yaml:6:46: action glob "mcp.tool.search" matches no known action type of connectors github, gitlab',
      'p.yaml:7:28: connector "gitlab" matches no known connector; known: github, mcp',
    ]);
    expect(lines(src.replace('github.pull.merge, github.*, mcp.tool.search, ', '').replace(', gitlab', ''), catalog)).toEqual([]);
  });

  it('approvals, aggregates and ids', () => {
    const src = [
      'version: 2',
      'aggregates:',
      '  Bad-Name: { scope: run, window: 1h, actions: [a.b], count: true }',
      '  ok: { scope: week, window: 9d, actions: [a.b], count: true, sum: amount }',
      '  none: { scope: run, window: 1h, actions: [a.b] }',
      'rules:',
      '  - id: a',
      '    effect: allow',
      '    match: { actions: [x.y] }',
      '    approval: { quorum: 2 }',
      '  - id: b',
      '    effect: require_approval',
      '    match: { actions: [x.y] }',
      '    approval: { quorum: 0, approvers: [viewer], timeout: 2 weeks }',
      '  - id: a',
      '    effect: deny',
      '    match: { actions: [x.y] }',
      '',
    ].join('\n');
    expect(lines(src)).toEqual([
      'p.yaml:1:10: unsupported policy format version: this engine reads "version: 1"',
      'p.yaml:3:3: aggregate name "Bad-Name" is not valid: lowercase letters, digits and _, starting with a letter (it is used as session.Bad-Name)',
      'p.yaml:4:16: scope must be "run" (this agent run) or "agent" (this agent on this gateway, across runs)',
      'p.yaml:4:30: window "9d" must be a duration from 1s to 7d, such as 30m, 1h or 1d',
      'p.yaml:4:63: an aggregate is either "count: true" or "sum: <parameter>", not both',
      'p.yaml:5:3: aggregate "none" needs "count: true" or "sum: <parameter>"',
      'p.yaml:10:5: rule "a": "approval" applies only to effect require_approval',
      'p.yaml:14:25: quorum must be a whole number from 1 to 10',
      'p.yaml:14:40: approver role "viewer" is not one of approver, admin (viewers cannot approve)',
      'p.yaml:14:58: timeout "2 weeks" must be a duration from 1s to 7d, such as 5m or 1h',
      'p.yaml:15:9: duplicate rule id "a" (first used by rules[0])',
    ]);
  });
});

describe('compile (apply) refuses the same bundles, listing every error', () => {
  it('throws PolicyInvalidError with code TF_ERR_POLICY_INVALID and one line per issue', () => {
    const src = 'version: 1\nrules:\n  - id: a\n    match: { actions: [github] }\n';
    let thrown: unknown;
    try {
      compileBundle(src, { fileName: 'p.yaml' });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(PolicyInvalidError);
    expect(isTameFlareError(thrown, PolicyErrorCode.Invalid)).toBe(true);
    const e = thrown as PolicyInvalidError;
    expect(e.issues).toHaveLength(2);
    expect(e.message.split('\n')).toEqual([
      'policy bundle is invalid (2 errors)',
      'p.yaml:3:5: rule 1 is missing required field "effect"',
      'p.yaml:4:24: action glob "github" matches nothing: action types have at least two segments; use "github.**" to match every github action',
    ]);
    expect(JSON.parse(JSON.stringify(e))).toMatchObject({ code: 'TF_ERR_POLICY_INVALID', details: { issues: e.issues } });
  });
});

describe('the default bundle', () => {
  const source = readFileSync(new URL('../../../infra/policies/default.yaml', import.meta.url), 'utf8');
  it('is valid, and its hash ignores line-end style', () => {
    const report = checkBundle(source, { fileName: 'default.yaml' });
    expect(report.issues).toEqual([]);
    expect(report.summary).toEqual({
      name: 'default',
      rules: 7,
      byEffect: { allow: 2, deny: 3, require_approval: 2 },
      aggregates: ['refunds_last_hour', 'refunded_this_run'],
    });
    expect(bundleHash(source.replace(/\n/g, '\r\n'))).toBe(report.hash);
    expect(bundleHash(source + ' ')).not.toBe(report.hash);
  });
});
