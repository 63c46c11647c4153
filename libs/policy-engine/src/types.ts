import type { Action, Decision, Role } from '@tameflare/contracts';

/** The policy language version this engine reads (`version:` at the top of a bundle). */
export const POLICY_FORMAT_VERSION = 1;

/** What a `require_approval` rule asks for. Same shape as `ApprovalRequirement` in ActionDecided. */
export interface ApprovalRequirement {
  approverRoles: Role[];
  quorum: number;
  timeoutMs: number;
}

/** The fields a rule matches on, each a list of globs (any glob may match; absent means any). */
export interface RuleMatch {
  actions: string[];
  agents: string[] | null;
  gateways: string[] | null;
  connectors: string[] | null;
  resources: string[] | null;
}

/** One rule of a bundle, as written (after validation). */
export interface PolicyRule {
  id: string;
  description: string | null;
  effect: Decision;
  match: RuleMatch;
  /** CEL condition, or null when the match alone decides. */
  when: string | null;
  /** Shown to the agent and recorded with the decision. */
  reason: string;
  approval: ApprovalRequirement | null;
  /** Position in the bundle (0-based): the tie-breaker within one effect. */
  index: number;
  line: number;
}

/**
 * A session aggregate: a count or sum over this run's (or this agent's, on this gateway) recent
 * actions that were allowed, read in conditions as `session.<name>`.
 */
export interface SessionAggregate {
  name: string;
  description: string | null;
  scope: 'run' | 'agent';
  windowMs: number;
  actions: string[];
  /** `count` counts actions; `sum` adds the numeric action parameter it names. */
  kind: 'count' | 'sum';
  param: string | null;
}

/** A validated bundle, as written. */
export interface PolicyDocument {
  name: string | null;
  description: string | null;
  defaultReason: string;
  aggregates: SessionAggregate[];
  rules: PolicyRule[];
}

/**
 * Known connectors and the action types each produces (globs, for open families such as
 * `mcp.tool.*`). When given, a rule glob that matches no known connector or action type is a
 * validation error.
 */
export interface ActionCatalog {
  connectors: { id: string; actionTypes: string[] }[];
}

/**
 * Everything a decision depends on. Its canonical JSON digest (`inputDigest`) is recorded with
 * the decision, so the decision can be recomputed later from the recorded events.
 */
export interface EvaluationInput {
  action: Action;
  agent: { id: string; name: string };
  runId: string;
  gatewayId: string;
  request: { method: string; scheme: string; host: string; port: number; path: string; query: string };
  /** Evaluation time, ISO 8601 UTC with milliseconds. Conditions see it as `now`. */
  time: string;
  /** Values of the session aggregates the candidate rules read (see `sessionNeeds`). */
  session: Record<string, number>;
}

/** The outcome of one evaluation. JSON-serializable. */
export interface EvaluationResult {
  decision: Decision;
  /** Every rule whose match and condition held, in bundle order. */
  matchedRules: string[];
  /** The rule that set the decision; null for the default deny. */
  decidingRule: string | null;
  reason: string;
  approval: ApprovalRequirement | null;
  /** Set when a condition failed at run time (the decision is then deny). */
  error: { code: string; message: string } | null;
  policy: { version: number; hash: string };
}
