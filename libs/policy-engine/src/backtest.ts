import { validateEvent, type Decision, type EventEnvelope } from '@tameflare/contracts';
import type { CompiledBundle } from './compile-bundle.ts';
import { evaluate } from './evaluate.ts';
import { buildInput } from './input.ts';
import { appendSessionEntry, computeSession, sessionEntryFor, sessionKey, sessionOverflowResult, type SessionEntry } from './session.ts';
import type { ApprovalRequirement, EvaluationResult } from './types.ts';

/** One recorded action: its ActionRequested and ActionDecided event envelopes. */
export interface RecordedDecision {
  requested: unknown;
  decided: unknown;
}

/** Options for {@link backtest}. */
export interface BacktestOptions {
  /**
   * Report only actions decided at or after this time. Earlier actions are still replayed, so
   * session aggregates start warm: feed history from `reportFrom - candidate.maxWindowMs`.
   */
  reportFrom?: Date;
  /** Most changes listed one by one (all are counted). Default 10,000. */
  maxChanges?: number;
}

/** One action whose decision would change. JSON-serializable. */
export interface BacktestChange {
  actionId: string;
  time: string;
  gatewayId: string;
  agentId: string;
  runId: string;
  actionType: string;
  connector: string;
  resource: string | null;
  before: { decision: Decision; rule: string | null; policyVersion: number | null; enforced: boolean };
  after: { decision: Decision; rule: string | null; reason: string; error: EvaluationResult['error']; approval: ApprovalRequirement | null; session: Record<string, number> };
}

/** The result of `tf policy backtest`. JSON-serializable (`--json`). */
export interface BacktestReport {
  candidate: { hash: string; rules: number };
  /** Recorded actions read. */
  total: number;
  /** Actions compared (decided by policy, within the reported period). */
  evaluated: number;
  skipped: {
    /** Decided before policy was consulted (kill switch, egress guard). */
    notPolicy: number;
    /** Not a valid ActionRequested/ActionDecided pair. */
    invalid: number;
    /** Replayed only to warm session aggregates (before `reportFrom`). */
    warmup: number;
  };
  unchanged: number;
  /** Actions whose decision would change. */
  changed: number;
  /** Same decision, but a different deciding rule. */
  ruleChanged: number;
  /** Changed decisions by transition, e.g. `allow->deny`. */
  transitions: Record<string, number>;
  changes: BacktestChange[];
  /** True when more than `maxChanges` changed and the list was cut. */
  truncated: boolean;
  /** Decision times of the first and last compared action. */
  period: { from: string | null; to: string | null };
}

/**
 * Replays recorded actions against a candidate bundle and reports every decision that would
 * change. Pure: it touches no live state. Session aggregates are simulated under the candidate
 * (an action the candidate would deny does not count towards later limits), starting from the
 * beginning of the history given. History must be in decision order, as recorded.
 */
export async function backtest(
  candidate: CompiledBundle,
  history: AsyncIterable<RecordedDecision> | Iterable<RecordedDecision>,
  options: BacktestOptions = {},
): Promise<BacktestReport> {
  const maxChanges = options.maxChanges ?? 10_000;
  const reportFrom = options.reportFrom?.getTime() ?? -Infinity;
  const sessions = new Map<string, SessionEntry[]>();
  const report: BacktestReport = {
    candidate: { hash: candidate.hash, rules: candidate.ruleCount },
    total: 0,
    evaluated: 0,
    skipped: { notPolicy: 0, invalid: 0, warmup: 0 },
    unchanged: 0,
    changed: 0,
    ruleChanged: 0,
    transitions: {},
    changes: [],
    truncated: false,
    period: { from: null, to: null },
  };
  for await (const item of history) {
    report.total++;
    const pair = readPair(item);
    if (!pair) {
      report.skipped.invalid++;
      continue;
    }
    const { requested, decided } = pair;
    if (decided.data.decidedBy !== 'policy') {
      report.skipped.notPolicy++;
      continue;
    }
    const base = buildInput(requested.data, decided.time);
    const key = sessionKey(base.gatewayId, base.agent.id);
    const entries = sessions.get(key) ?? [];
    const input = { ...base, session: computeSession(candidate, candidate.sessionNeeds(base), entries, base) };
    let after = evaluate(candidate, input);
    if (after.decision === 'allow') {
      const entry = sessionEntryFor(candidate, input, requested.data.actionId);
      if (entry) {
        const next = appendSessionEntry(candidate, entries, entry);
        if (next) sessions.set(key, next);
        else after = sessionOverflowResult(after);
      }
    }
    if (Date.parse(decided.time) < reportFrom) {
      report.skipped.warmup++;
      continue;
    }
    report.evaluated++;
    report.period.from ??= input.time;
    report.period.to = input.time;
    const d = decided.data;
    if (d.decision === after.decision) {
      report.unchanged++;
      if (d.decidingRule !== after.decidingRule) report.ruleChanged++;
      continue;
    }
    report.changed++;
    const t = `${d.decision}->${after.decision}`;
    report.transitions[t] = (report.transitions[t] ?? 0) + 1;
    if (report.changes.length >= maxChanges) {
      report.truncated = true;
      continue;
    }
    const a = requested.data.action;
    report.changes.push({
      actionId: d.actionId,
      time: input.time,
      gatewayId: d.gatewayId,
      agentId: d.agentId,
      runId: d.runId,
      actionType: a.type,
      connector: a.connector,
      resource: a.resource,
      before: { decision: d.decision, rule: d.decidingRule, policyVersion: d.policy?.version ?? null, enforced: d.enforced },
      after: { decision: after.decision, rule: after.decidingRule, reason: after.reason, error: after.error, approval: after.approval, session: input.session },
    });
  }
  return report;
}

/** A validated pair, or null. */
export function readPair(item: RecordedDecision): { requested: EventEnvelope<'ActionRequested'>; decided: EventEnvelope<'ActionDecided'> } | null {
  try {
    const requested = validateEvent(item.requested);
    const decided = validateEvent(item.decided);
    if (requested.type !== 'ActionRequested' || decided.type !== 'ActionDecided') return null;
    if (requested.data.actionId !== decided.data.actionId) return null;
    return { requested, decided };
  } catch {
    return null;
  }
}
