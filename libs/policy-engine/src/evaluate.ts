import type { CompiledBundle, CompiledRule } from './compile-bundle.ts';
import { PolicyErrorCode } from './errors.ts';
import type { EvaluationInput, EvaluationResult } from './types.ts';

/**
 * Decides one action. Pure and deterministic: the same bundle and input always give the same
 * result, so a recorded decision can be recomputed.
 *
 * Precedence: any matching `deny` wins, then `require_approval`, then `allow`; within one effect
 * the first rule in bundle order decides. Nothing matched means deny. A condition that fails at
 * run time (a missing parameter, a type error) denies, names the rule and records the error.
 */
export function evaluate(bundle: CompiledBundle, input: EvaluationInput): EvaluationResult {
  const policy = { version: bundle.version, hash: bundle.hash };
  const candidates = bundle.candidates(input);
  const matched: string[] = [];
  let deny: CompiledRule | null = null;
  let approval: CompiledRule | null = null;
  let allow: CompiledRule | null = null;
  let ctx: Record<string, unknown> | null = null;
  for (const c of candidates) {
    if (c.condition) {
      for (const name of c.sessionFields) {
        if (typeof input.session[name] !== 'number') {
          return failure(policy, matched, c, PolicyErrorCode.SessionMissing, `session aggregate "${name}" was not computed for this evaluation`);
        }
      }
      ctx ??= bundle.bindings(input);
      const r = c.condition(ctx);
      if (r !== true) {
        if (r === false) continue;
        return failure(policy, matched, c, PolicyErrorCode.Evaluation, r.error);
      }
    }
    matched.push(c.rule.id);
    const effect = c.rule.effect;
    if (effect === 'deny') deny ??= c;
    else if (effect === 'require_approval') approval ??= c;
    else allow ??= c;
  }
  const decider = deny ?? approval ?? allow;
  if (!decider) {
    return { decision: 'deny', matchedRules: matched, decidingRule: null, reason: bundle.document.defaultReason, approval: null, error: null, policy };
  }
  return {
    decision: decider.rule.effect,
    matchedRules: matched,
    decidingRule: decider.rule.id,
    reason: decider.rule.reason,
    approval: decider.rule.effect === 'require_approval' ? decider.rule.approval : null,
    error: null,
    policy,
  };
}

function failure(policy: EvaluationResult['policy'], matched: string[], rule: CompiledRule, code: string, message: string): EvaluationResult {
  return {
    decision: 'deny',
    matchedRules: matched,
    decidingRule: rule.rule.id,
    reason: `Denied: the condition of policy rule "${rule.rule.id}" could not be evaluated`,
    approval: null,
    error: { code, message: `rule "${rule.rule.id}": ${message}`.slice(0, 1000) },
    policy,
  };
}
