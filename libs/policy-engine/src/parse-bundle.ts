import { isMap, isScalar, isSeq, type Node, type Scalar } from 'yaml';
import type { Decision, Role } from '@tameflare/contracts';
import { checkCondition, policyDeclarations } from './cel.ts';
import { parseDuration } from './duration.ts';
import type { PolicyIssue } from './errors.ts';
import { actionGlobProblem, compileGlob, globsOverlap, nameGlobProblem } from './glob.ts';
import { POLICY_FORMAT_VERSION, type ActionCatalog, type ApprovalRequirement, type PolicyDocument, type PolicyRule, type RuleMatch, type SessionAggregate } from './types.ts';
import { createYamlReader, join, offsetInScalar, readInt, readMap, readNamedMap, readString, readStringList, type Entry, type YamlReader } from './yaml-reader.ts';

type ParsedExpr = NonNullable<ReturnType<typeof checkCondition>['parsed']>;

/** A bundle that passed validation, with its conditions parsed. */
export interface ParsedBundle {
  document: PolicyDocument;
  /** Per rule, in order: the parsed condition (null when the rule has none). */
  conditions: (ParsedExpr | null)[];
  /** Per rule, in order: the session aggregates its condition reads. */
  sessionFields: string[][];
  /** Every dotted variable path some condition reads, so evaluation can bind them directly. */
  paths: string[];
}

/** Options for validation. */
export interface ParseOptions {
  /** File name used in messages (`policy.yaml:12:5: ...`). */
  fileName?: string;
  /** Known connectors and action types; when given, globs that match none of them are errors. */
  catalog?: ActionCatalog;
}

const TOP_FIELDS = ['version', 'name', 'description', 'default_reason', 'aggregates', 'rules'] as const;
const RULE_FIELDS = ['id', 'description', 'effect', 'match', 'when', 'reason', 'approval'] as const;
const MATCH_FIELDS = ['actions', 'agents', 'gateways', 'connectors', 'resources'] as const;
const APPROVAL_FIELDS = ['timeout', 'approvers', 'quorum'] as const;
const AGGREGATE_FIELDS = ['description', 'scope', 'window', 'actions', 'count', 'sum'] as const;
const EFFECTS: readonly Decision[] = ['allow', 'deny', 'require_approval'];
const APPROVER_ROLES: readonly Role[] = ['approver', 'admin'];
const RULE_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;
const AGGREGATE_NAME = /^[a-z][a-z0-9_]{0,63}$/;
const PARAM_NAME = /^[A-Za-z0-9_.:-]{1,128}$/;
const MAX_WINDOW_MS = 7 * 24 * 3600_000;
const DEFAULT_APPROVAL_TIMEOUT_MS = 5 * 60_000;
const MAX_RULES = 10_000;

/**
 * Validates a bundle's YAML and returns every issue found, each located to the character.
 * The bundle is usable only when `issues` is empty.
 */
export function parseBundle(source: string, options: ParseOptions = {}): { parsed: ParsedBundle | null; issues: PolicyIssue[] } {
  const r = createYamlReader(source, options.fileName ?? 'policy.yaml');
  if (r.issues.length) return { parsed: null, issues: r.issues };
  if (r.root === null) {
    r.issue(null, '', 'the policy file is empty: it needs at least "version: 1" and "rules:"');
    return { parsed: null, issues: r.issues };
  }
  const top = readMap(r, r.root, '', 'the policy bundle', TOP_FIELDS, ['version', 'rules']);
  if (!top) return { parsed: null, issues: r.issues };

  const version = top.get('version');
  if (version && !(isScalar(version.value) && version.value.value === POLICY_FORMAT_VERSION)) {
    r.issue(version.value ?? version.key, 'version', `unsupported policy format version: this engine reads "version: ${POLICY_FORMAT_VERSION}"`);
  }
  const name = readString(r, top.get('name'), 'name', 'name', { max: 200 });
  const description = readString(r, top.get('description'), 'description', 'description', { max: 2000 });
  const defaultReason = readString(r, top.get('default_reason'), 'default_reason', 'default_reason', { max: 1000 });

  const aggregates = readAggregates(r, top.get('aggregates'), options.catalog);
  const declarations = policyDeclarations(aggregates.map((a) => a.name));

  const rules: PolicyRule[] = [];
  const conditions: (ParsedExpr | null)[] = [];
  const sessionFields: string[][] = [];
  const paths = new Set<string>();
  const rulesEntry = top.get('rules');
  if (rulesEntry) {
    const seq = rulesEntry.value;
    if (!isSeq(seq)) {
      r.issue(seq ?? rulesEntry.key, 'rules', 'rules must be a list (each item starts with "- id: ...")');
    } else if (seq.items.length > MAX_RULES) {
      r.issue(seq, 'rules', `a bundle holds at most ${MAX_RULES} rules`);
    } else {
      const seen = new Map<string, number>();
      seq.items.forEach((item, index) => {
        const idNode = isMap(item) ? (item.get('id', true) as Node | undefined) : undefined;
        const id = isScalar(idNode) && typeof idNode.value === 'string' ? idNode.value : null;
        const prev = id === null ? undefined : seen.get(id);
        if (id !== null && prev !== undefined) r.issue(idNode, join(join('rules', index), 'id'), `duplicate rule id "${id}" (first used by rules[${prev}])`);
        else if (id !== null) seen.set(id, index);
        const rule = readRule(r, item as Node, index, declarations, options.catalog);
        if (!rule || prev !== undefined) return;
        rules.push(rule.rule);
        conditions.push(rule.condition);
        sessionFields.push(rule.sessionFields);
        for (const p of rule.paths) paths.add(p);
      });
    }
  }
  if (r.issues.length) return { parsed: null, issues: sortIssues(r.issues) };
  const document: PolicyDocument = {
    name,
    description,
    defaultReason: defaultReason ?? 'No policy rule allows this action',
    aggregates,
    rules,
  };
  return { parsed: { document, conditions, sessionFields, paths: [...paths].sort() }, issues: [] };
}

function sortIssues(issues: PolicyIssue[]): PolicyIssue[] {
  return issues.sort((a, b) => a.line - b.line || a.col - b.col);
}

function readGlobs(r: YamlReader, e: Entry | undefined, path: string, what: string, kind: 'action' | 'name' | 'resource'): string[] | null {
  const items = readStringList(r, e, path, what);
  if (!items) return null;
  let ok = true;
  items.forEach((item, i) => {
    const problem =
      kind === 'action' ? actionGlobProblem(item.value) : kind === 'name' ? nameGlobProblem(item.value, what.replace(/s$/, '')) : item.value === '' ? 'a resource glob cannot be empty' : null;
    if (problem) {
      r.issue(item.node, join(path, i), problem);
      ok = false;
    }
  });
  return ok ? items.map((i) => i.value) : null;
}

function readAggregates(r: YamlReader, e: Entry | undefined, catalog: ActionCatalog | undefined): SessionAggregate[] {
  if (!e) return [];
  const entries = readNamedMap(r, e.value, 'aggregates', 'aggregates', e.key);
  const out: SessionAggregate[] = [];
  for (const { key, value } of entries) {
    const name = String(key.value);
    const path = join('aggregates', name);
    if (!AGGREGATE_NAME.test(name)) {
      r.issue(key, path, `aggregate name "${name}" is not valid: lowercase letters, digits and _, starting with a letter (it is used as session.${name})`);
      continue;
    }
    const f = readMap(r, value, path, `aggregate "${name}"`, AGGREGATE_FIELDS, ['scope', 'window', 'actions'], key);
    if (!f) continue;
    const description = readString(r, f.get('description'), join(path, 'description'), 'description', { max: 1000 });
    const scope = readString(r, f.get('scope'), join(path, 'scope'), 'scope');
    if (scope !== null && scope !== 'run' && scope !== 'agent') r.issue(f.get('scope')!.value, join(path, 'scope'), 'scope must be "run" (this agent run) or "agent" (this agent on this gateway, across runs)');
    const windowText = readString(r, f.get('window'), join(path, 'window'), 'window');
    const windowMs = windowText === null ? null : parseDuration(windowText);
    if (windowText !== null && (windowMs === null || windowMs < 1000 || windowMs > MAX_WINDOW_MS)) {
      r.issue(f.get('window')!.value, join(path, 'window'), `window "${windowText}" must be a duration from 1s to 7d, such as 30m, 1h or 1d`);
    }
    const actions = readGlobs(r, f.get('actions'), join(path, 'actions'), 'actions', 'action');
    if (actions && catalog) checkActionsAgainstCatalog(r, f.get('actions')!, join(path, 'actions'), actions, null, catalog);
    const count = f.get('count');
    const sum = f.get('sum');
    let kind: 'count' | 'sum' | null = null;
    let param: string | null = null;
    if (count && sum) r.issue(sum.key, join(path, 'sum'), 'an aggregate is either "count: true" or "sum: <parameter>", not both');
    else if (count) {
      if (!(isScalar(count.value) && count.value.value === true)) r.issue(count.value ?? count.key, join(path, 'count'), 'count must be true');
      else kind = 'count';
    } else if (sum) {
      param = readString(r, sum, join(path, 'sum'), 'sum', { pattern: PARAM_NAME, patternHint: 'name the numeric action parameter to add up, such as amount' });
      if (param !== null) kind = 'sum';
    } else {
      r.issue(key, path, `aggregate "${name}" needs "count: true" or "sum: <parameter>"`);
    }
    if (scope !== null && (scope === 'run' || scope === 'agent') && windowMs !== null && actions && kind) {
      out.push({ name, description, scope, windowMs, actions, kind, param });
    }
  }
  return out;
}

function checkActionsAgainstCatalog(r: YamlReader, e: Entry, path: string, actions: string[], connectors: string[] | null, catalog: ActionCatalog): void {
  const connectorGlobs = connectors?.map((c) => compileGlob(c, 'name'));
  const known = catalog.connectors.filter((c) => !connectorGlobs || connectorGlobs.some((g) => g.test(c.id)));
  const knownTypes = known.flatMap((c) => c.actionTypes.map((t) => compileGlob(t, 'action')));
  const items = isSeq(e.value) ? (e.value.items as Node[]) : [e.value as Node];
  actions.forEach((a, i) => {
    const g = compileGlob(a, 'action');
    if (knownTypes.some((t) => globsOverlap(g, t))) return;
    const provider = a.split('.')[0]!;
    const similar = knownTypes.filter((t) => t.pattern.startsWith(provider + '.')).slice(0, 4).map((t) => t.pattern);
    const scope = connectors ? ` of connector${connectors.length > 1 ? 's' : ''} ${connectors.join(', ')}` : '';
    r.issue(
      items[i] ?? e.value,
      isSeq(e.value) ? join(path, i) : path,
      `action glob "${a}" matches no known action type${scope}` +
        (similar.length ? `; known ${provider} actions look like ${similar.join(', ')}` : '') +
        (!a.includes('**') && similar.length ? `; "${provider}.**" matches all of them` : ''),
    );
  });
}

interface ReadRule {
  rule: PolicyRule;
  condition: ParsedExpr | null;
  sessionFields: string[];
  paths: Set<string>;
}

function readRule(
  r: YamlReader,
  node: Node,
  index: number,
  declarations: ReturnType<typeof policyDeclarations>,
  catalog: ActionCatalog | undefined,
): ReadRule | null {
  const path = join('rules', index);
  const before = r.issues.length;
  const f = readMap(r, node, path, `rule ${index + 1}`, RULE_FIELDS, ['id', 'effect', 'match']);
  if (!f) return null;
  const id = readString(r, f.get('id'), join(path, 'id'), 'rule id', {
    pattern: RULE_ID,
    patternHint: 'letters, digits and _ . : -, at most 100 characters',
  });
  const label = id === null ? `rule ${index + 1}` : `rule "${id}"`;
  const description = readString(r, f.get('description'), join(path, 'description'), 'description', { max: 2000 });

  const effectText = readString(r, f.get('effect'), join(path, 'effect'), 'effect');
  let effect: Decision | null = null;
  if (effectText !== null) {
    if ((EFFECTS as readonly string[]).includes(effectText)) effect = effectText as Decision;
    else {
      const hint = /approv/.test(effectText) ? ' (did you mean "require_approval"?)' : '';
      r.issue(f.get('effect')!.value, join(path, 'effect'), `effect "${effectText}" is not one of allow, deny, require_approval${hint}`);
    }
  }

  const match = readMatch(r, f.get('match'), join(path, 'match'), label, catalog);

  let condition: ParsedExpr | null = null;
  let sessionFields: string[] = [];
  let paths = new Set<string>();
  let when: string | null = null;
  const whenEntry = f.get('when');
  if (whenEntry) {
    when = readString(r, whenEntry, join(path, 'when'), 'when', { max: 10_000 });
    if (when !== null) {
      const check = checkCondition(when, declarations);
      for (const issue of check.issues) {
        r.issue(offsetInScalar(r, whenEntry.value as Scalar, issue.offset), join(path, 'when'), `${label}: ${issue.message}`);
      }
      condition = check.issues.length ? null : check.parsed;
      sessionFields = [...check.sessionFields].sort();
      paths = check.paths;
    }
  }

  const reason = readString(r, f.get('reason'), join(path, 'reason'), 'reason', { max: 1000 });
  let approval: ApprovalRequirement | null = null;
  const approvalEntry = f.get('approval');
  if (approvalEntry && effect !== null && effect !== 'require_approval') {
    r.issue(approvalEntry.key, join(path, 'approval'), `${label}: "approval" applies only to effect require_approval`);
  } else if (effect === 'require_approval') {
    approval = readApproval(r, approvalEntry, join(path, 'approval'));
  }

  if (r.issues.length > before || id === null || effect === null || match === null) return null;
  return {
    condition,
    sessionFields,
    paths,
    rule: {
      id,
      description,
      effect,
      match,
      when,
      reason: reason ?? defaultReason(effect, id),
      approval,
      index,
      line: r.position(node.range?.[0] ?? 0).line,
    },
  };
}

function defaultReason(effect: Decision, id: string): string {
  if (effect === 'deny') return `Denied by policy rule "${id}"`;
  if (effect === 'require_approval') return `Needs human approval (policy rule "${id}")`;
  return `Allowed by policy rule "${id}"`;
}

function readMatch(r: YamlReader, e: Entry | undefined, path: string, label: string, catalog: ActionCatalog | undefined): RuleMatch | null {
  if (!e) return null;
  const f = readMap(r, e.value, path, `the match of ${label}`, MATCH_FIELDS, ['actions'], e.key);
  if (!f) return null;
  const actions = readGlobs(r, f.get('actions'), join(path, 'actions'), 'actions', 'action');
  const agents = readGlobs(r, f.get('agents'), join(path, 'agents'), 'agents', 'name');
  const gateways = readGlobs(r, f.get('gateways'), join(path, 'gateways'), 'gateways', 'name');
  const connectors = readGlobs(r, f.get('connectors'), join(path, 'connectors'), 'connectors', 'name');
  const resources = readGlobs(r, f.get('resources'), join(path, 'resources'), 'resources', 'resource');
  if (catalog && connectors) {
    const cs = f.get('connectors')!;
    const items = isSeq(cs.value) ? (cs.value.items as Node[]) : [cs.value as Node];
    connectors.forEach((c, i) => {
      const g = compileGlob(c, 'name');
      if (!catalog.connectors.some((k) => g.test(k.id))) {
        r.issue(items[i] ?? cs.value, join(join(path, 'connectors'), i), `connector "${c}" matches no known connector; known: ${catalog.connectors.map((k) => k.id).join(', ')}`);
      }
    });
  }
  if (catalog && actions) checkActionsAgainstCatalog(r, f.get('actions')!, join(path, 'actions'), actions, connectors, catalog);
  if (!actions) return null;
  return { actions, agents, gateways, connectors, resources };
}

function readApproval(r: YamlReader, e: Entry | undefined, path: string): ApprovalRequirement | null {
  if (!e) return { approverRoles: [...APPROVER_ROLES], quorum: 1, timeoutMs: DEFAULT_APPROVAL_TIMEOUT_MS };
  const f = readMap(r, e.value, path, 'approval', APPROVAL_FIELDS, [], e.key);
  if (!f) return null;
  let timeoutMs = DEFAULT_APPROVAL_TIMEOUT_MS;
  const timeoutText = readString(r, f.get('timeout'), join(path, 'timeout'), 'timeout');
  if (timeoutText !== null) {
    const ms = parseDuration(timeoutText);
    if (ms === null || ms < 1000 || ms > MAX_WINDOW_MS) r.issue(f.get('timeout')!.value, join(path, 'timeout'), `timeout "${timeoutText}" must be a duration from 1s to 7d, such as 5m or 1h`);
    else timeoutMs = ms;
  }
  let approverRoles: Role[] = [...APPROVER_ROLES];
  const roles = readStringList(r, f.get('approvers'), join(path, 'approvers'), 'approvers');
  if (roles) {
    const bad = roles.filter((x) => !(APPROVER_ROLES as readonly string[]).includes(x.value));
    for (const b of bad) r.issue(b.node, join(path, 'approvers'), `approver role "${b.value}" is not one of ${APPROVER_ROLES.join(', ')} (viewers cannot approve)`);
    approverRoles = [...new Set(roles.map((x) => x.value))] as Role[];
  }
  const quorum = readInt(r, f.get('quorum'), join(path, 'quorum'), 'quorum', 1, 10) ?? 1;
  return { approverRoles, quorum, timeoutMs };
}
