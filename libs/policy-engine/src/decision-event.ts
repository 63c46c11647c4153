import type { EnforcementMode, EventData } from '@tameflare/contracts';
import type { EvaluationInput, EvaluationResult } from './types.ts';
import { inputDigest } from './input.ts';

/**
 * The data of the ActionDecided event for an evaluation: what the policy service records and
 * what backtests and verification read back.
 */
export function decidedEventData(
  requested: EventData<'ActionRequested'>,
  input: EvaluationInput,
  result: EvaluationResult,
  options: { mode: EnforcementMode; evaluationMicros: number; policy?: { version: number; hash: string } | null },
): EventData<'ActionDecided'> {
  const data: EventData<'ActionDecided'> = {
    actionId: requested.actionId,
    gatewayId: requested.gatewayId,
    agentId: requested.agentId,
    runId: requested.runId,
    decision: result.decision,
    enforced: options.mode === 'enforce',
    mode: options.mode,
    reason: result.reason.slice(0, 1000),
    matchedRules: result.matchedRules,
    decidingRule: result.decidingRule,
    policy: options.policy === undefined ? result.policy : options.policy,
    decidedBy: 'policy',
    killSwitchId: null,
    inputDigest: inputDigest(input),
    approval: result.approval,
    error: result.error,
    evaluationMicros: Math.max(0, options.evaluationMicros),
  };
  if (Object.keys(input.session).length > 0) data.session = input.session;
  return data;
}
