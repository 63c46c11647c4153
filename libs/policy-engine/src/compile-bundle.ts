import { sha256Hex } from '@tameflare/contracts';
import { createBindingsFactory, type BindingsFactory } from './bindings.ts';
import { planCondition, type ConditionProgram } from './cel.ts';
import { PolicyInvalidError } from './errors.ts';
import { compileGlob, type Glob } from './glob.ts';
import { parseBundle, type ParseOptions } from './parse-bundle.ts';
import type { EvaluationInput, PolicyDocument, PolicyRule, SessionAggregate } from './types.ts';

/** A rule with its globs and condition compiled. */
export interface CompiledRule {
  readonly rule: PolicyRule;
  readonly actions: readonly Glob[];
  readonly agents: readonly Glob[] | null;
  readonly gateways: readonly Glob[] | null;
  readonly connectors: readonly Glob[] | null;
  readonly resources: readonly Glob[] | null;
  readonly condition: ConditionProgram | null;
  /** Session aggregates the condition reads. */
  readonly sessionFields: readonly string[];
}

/** The part of an input that selects candidate rules (everything but conditions and session). */
export type MatchInput = Pick<EvaluationInput, 'action' | 'agent' | 'gatewayId'>;

/**
 * A bundle ready to evaluate. Immutable: a service swaps whole bundles, so one evaluation
 * always sees exactly one version.
 */
export interface CompiledBundle {
  /** The version it was published as (0 for a bundle that was never published). */
  readonly version: number;
  /** SHA-256 of the canonical source (see {@link bundleHash}). */
  readonly hash: string;
  readonly source: string;
  readonly document: PolicyDocument;
  readonly ruleCount: number;
  readonly rules: readonly CompiledRule[];
  /** The longest aggregate window, or 0 when the bundle declares no aggregates. */
  readonly maxWindowMs: number;
  /**
   * Rules whose match (action type, agent, gateway, connector, resource) fits the input, in
   * bundle order. Found through an index on the action type, not by scanning every rule.
   */
  candidates(input: MatchInput): readonly CompiledRule[];
  /** The session aggregates the candidate rules read, sorted; empty for most actions. */
  sessionNeeds(input: MatchInput): string[];
  /** True when an allowed action of this type counts towards some aggregate. */
  tracks(actionType: string): boolean;
  /** The aggregates an action of this type counts towards. */
  aggregatesFor(actionType: string): readonly SessionAggregate[];
  /** What conditions see for an input (used by `evaluate`). */
  readonly bindings: BindingsFactory;
}

/** Options for {@link compileBundle}. */
export interface CompileOptions extends ParseOptions {
  /** The published version number (default 0: not published). */
  version?: number;
  /** Disables the action-type index (every evaluation scans every rule). For tests that compare the two. */
  index?: boolean;
}

/**
 * SHA-256 (hex) of a bundle's canonical source: UTF-8 text with a leading byte-order mark
 * removed and CRLF line ends turned into LF, so the same file checked out on any machine has
 * the same hash.
 */
export function bundleHash(source: string): string {
  return sha256Hex(canonicalSource(source));
}

/** The source as hashed and stored: no BOM, LF line ends. */
export function canonicalSource(source: string): string {
  return source.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n');
}

const TYPE_CACHE_LIMIT = 50_000;

/**
 * Validates and compiles a bundle.
 *
 * @throws PolicyInvalidError (`TF_ERR_POLICY_INVALID`) listing every problem, each as
 * `file:line:col: message`.
 */
export function compileBundle(source: string, options: CompileOptions = {}): CompiledBundle {
  const canonical = canonicalSource(source);
  const { parsed, issues } = parseBundle(canonical, options);
  if (!parsed) throw new PolicyInvalidError(issues);
  const { document } = parsed;
  const rules: CompiledRule[] = document.rules.map((rule, i) => {
    const globs = (list: string[] | null, kind: 'action' | 'name' | 'resource') => list?.map((p) => compileGlob(p, kind)) ?? null;
    const condition = parsed.conditions[i];
    return {
      rule,
      actions: globs(rule.match.actions, 'action')!,
      agents: globs(rule.match.agents, 'name'),
      gateways: globs(rule.match.gateways, 'name'),
      connectors: globs(rule.match.connectors, 'name'),
      resources: globs(rule.match.resources, 'resource'),
      condition: condition ? planCondition(condition) : null,
      sessionFields: parsed.sessionFields[i] ?? [],
    };
  });

  // Index: fully literal action globs by type, globs with a literal provider by provider, the rest apart.
  const exact = new Map<string, number[]>();
  const byProvider = new Map<string, number[]>();
  const anyProvider: number[] = [];
  const add = (m: Map<string, number[]>, k: string, i: number) => {
    const l = m.get(k);
    if (!l) m.set(k, [i]);
    else if (l[l.length - 1] !== i) l.push(i);
  };
  rules.forEach((r, i) => {
    for (const g of r.actions) {
      const first = g.pattern.split('.')[0]!;
      if (g.literal !== null) add(exact, g.literal, i);
      else if (!first.includes('*')) add(byProvider, first, i);
      else if (anyProvider[anyProvider.length - 1] !== i) anyProvider.push(i);
    }
  });
  const useIndex = options.index !== false;
  const typeCache = new Map<string, readonly CompiledRule[]>();
  const byType = (type: string): readonly CompiledRule[] => {
    const cached = typeCache.get(type);
    if (cached) return cached;
    let ids: number[];
    if (useIndex) {
      const dot = type.indexOf('.');
      const provider = dot < 0 ? type : type.slice(0, dot);
      ids = [...new Set([...(exact.get(type) ?? []), ...(byProvider.get(provider) ?? []), ...anyProvider])].sort((a, b) => a - b);
    } else {
      ids = rules.map((_, i) => i);
    }
    const list = ids.map((i) => rules[i]!).filter((r) => r.actions.some((g) => g.test(type)));
    if (useIndex && typeCache.size < TYPE_CACHE_LIMIT) typeCache.set(type, list);
    return list;
  };

  const fits = (globs: readonly Glob[] | null, value: string | null) => globs === null || (value !== null && globs.some((g) => g.test(value)));
  const candidates = (input: MatchInput): readonly CompiledRule[] => {
    const list = byType(input.action.type);
    let out: CompiledRule[] | null = null;
    for (let i = 0; i < list.length; i++) {
      const r = list[i]!;
      const ok =
        fits(r.agents, input.agent.id) && fits(r.gateways, input.gatewayId) && fits(r.connectors, input.action.connector) && fits(r.resources, input.action.resource);
      if (ok) {
        if (out) out.push(r);
      } else if (!out) {
        out = list.slice(0, i) as CompiledRule[];
      }
    }
    return out ?? list;
  };

  const aggregateCache = new Map<string, readonly SessionAggregate[]>();
  const aggregateGlobs = document.aggregates.map((a) => ({ a, globs: a.actions.map((p) => compileGlob(p, 'action')) }));
  const aggregatesFor = (type: string): readonly SessionAggregate[] => {
    let l = aggregateCache.get(type);
    if (!l) {
      l = aggregateGlobs.filter(({ globs }) => globs.some((g) => g.test(type))).map(({ a }) => a);
      if (aggregateCache.size < TYPE_CACHE_LIMIT) aggregateCache.set(type, l);
    }
    return l;
  };

  return {
    version: options.version ?? 0,
    hash: sha256Hex(canonical),
    source: canonical,
    document,
    ruleCount: rules.length,
    rules,
    maxWindowMs: document.aggregates.reduce((m, a) => Math.max(m, a.windowMs), 0),
    candidates,
    sessionNeeds: (input) => {
      if (document.aggregates.length === 0) return [];
      const names = new Set<string>();
      for (const r of candidates(input)) for (const f of r.sessionFields) names.add(f);
      return [...names].sort();
    },
    tracks: (type) => document.aggregates.length > 0 && aggregatesFor(type).length > 0,
    aggregatesFor,
    bindings: createBindingsFactory(parsed.paths),
  };
}
