import { digestOf, type EventData } from '@tameflare/contracts';
import type { EvaluationInput } from './types.ts';

/**
 * The evaluation input for a recorded (or just received) `ActionRequested`, at `time`, with
 * the session aggregate values the decision used. Recomputing a decision later means calling
 * this again with the recorded event, the ActionDecided time and its recorded `session`.
 */
export function buildInput(requested: EventData<'ActionRequested'>, time: Date | string, session: Record<string, number> = {}): EvaluationInput {
  const r = requested.request;
  return {
    action: requested.action,
    agent: { id: requested.agentId, name: requested.agentName },
    runId: requested.runId,
    gatewayId: requested.gatewayId,
    request: { method: r.method, scheme: r.scheme, host: r.host, port: r.port, path: r.path, query: r.query },
    time: typeof time === 'string' ? new Date(time).toISOString() : time.toISOString(),
    session,
  };
}

/** SHA-256 of the canonical JSON of the input: what ActionDecided records as `inputDigest`. */
export function inputDigest(input: EvaluationInput): string {
  return digestOf(input);
}
