import type { Decision } from '@tameflare/contracts';
import { readPair, type RecordedDecision } from './backtest.ts';
import type { CompiledBundle } from './compile-bundle.ts';
import { PolicyErrorCode } from './errors.ts';
import { evaluate } from './evaluate.ts';
import { buildInput, inputDigest } from './input.ts';
import { sessionOverflowResult } from './session.ts';

/** Finds the bundle a decision was made with (by gateway, version and hash), or null. */
export type BundleResolver = (gatewayId: string, policy: { version: number; hash: string }) => CompiledBundle | null | Promise<CompiledBundle | null>;

/** A recorded decision that did not recompute to the same result. */
export interface DecisionMismatch {
  actionId: string;
  problem: string;
  recorded: { decision: Decision; decidingRule: string | null; matchedRules: string[]; inputDigest: string };
  recomputed: { decision: Decision; decidingRule: string | null; matchedRules: string[]; inputDigest: string };
}

/** The result of recomputing recorded decisions. JSON-serializable. */
export interface VerifyReport {
  total: number;
  verified: number;
  skipped: { notPolicy: number; invalid: number; noBundle: number; unknownBundle: number };
  mismatches: DecisionMismatch[];
}

/**
 * Recomputes recorded decisions: rebuilds each input from the ActionRequested event, the
 * ActionDecided time and its recorded session values, checks the digest equals the recorded
 * `inputDigest`, and evaluates it with the exact bundle (version and hash) that decided.
 */
export async function verifyDecisions(history: AsyncIterable<RecordedDecision> | Iterable<RecordedDecision>, resolve: BundleResolver): Promise<VerifyReport> {
  const report: VerifyReport = { total: 0, verified: 0, skipped: { notPolicy: 0, invalid: 0, noBundle: 0, unknownBundle: 0 }, mismatches: [] };
  for await (const item of history) {
    report.total++;
    const pair = readPair(item);
    if (!pair) {
      report.skipped.invalid++;
      continue;
    }
    const d = pair.decided.data;
    if (d.decidedBy !== 'policy') {
      report.skipped.notPolicy++;
      continue;
    }
    const input = buildInput(pair.requested.data, pair.decided.time, d.session ?? {});
    const digest = inputDigest(input);
    const recorded = { decision: d.decision, decidingRule: d.decidingRule, matchedRules: d.matchedRules, inputDigest: d.inputDigest };
    if (!d.policy) {
      report.skipped.noBundle++;
      continue;
    }
    const bundle = await resolve(d.gatewayId, d.policy);
    if (!bundle || bundle.hash !== d.policy.hash) {
      report.skipped.unknownBundle++;
      continue;
    }
    let result = evaluate(bundle, input);
    if (d.error?.code === PolicyErrorCode.SessionOverflow && result.decision === 'allow') result = sessionOverflowResult(result);
    const recomputed = { decision: result.decision, decidingRule: result.decidingRule, matchedRules: result.matchedRules, inputDigest: digest };
    const problem =
      digest !== d.inputDigest
        ? 'the input rebuilt from the recorded events has a different digest'
        : result.decision !== d.decision || result.decidingRule !== d.decidingRule || result.matchedRules.join('\n') !== d.matchedRules.join('\n')
          ? 'the bundle decides differently on the recorded input'
          : null;
    if (problem) report.mismatches.push({ actionId: d.actionId, problem, recorded, recomputed });
    else report.verified++;
  }
  return report;
}
