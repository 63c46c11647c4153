import {
  createEvent,
  randomToken,
  sha256Hex,
  uuidv7,
  type EventEnvelope,
  type GatewayEntry,
  type RunEndReply,
  type RunEndRequest,
  type RunEntry,
  type RunStartReply,
  type RunStartRequest,
} from '@tameflare/contracts';
import { agentIdFor } from './agent-id.ts';
import type { ControlDeps } from './deps.ts';
import { ControlErrorCode, controlError } from './errors.ts';
import { applyToKv } from './streams.ts';

/** The event-store stream of a run. */
export const runStream = (runId: string) => `run-${runId}`;

/**
 * Registers an agent run: records `AgentRunStarted` (with the token's SHA-256 only), then makes
 * the token valid by putting KV `tf_runs/<sha256>`. The token is in the reply and nowhere else.
 *
 * @throws `TF_ERR_CONTROL_UNKNOWN_GATEWAY` when the gateway does not exist (nothing recorded).
 */
export async function startRun(deps: ControlDeps, req: RunStartRequest, traceparent?: string): Promise<RunStartReply> {
  const gateway = await deps.kv.gateways.get<GatewayEntry>(req.gatewayId);
  if (!gateway) {
    throw controlError(ControlErrorCode.UnknownGateway, `gateway "${req.gatewayId}" does not exist`, { details: { gatewayId: req.gatewayId } });
  }
  const agentId = agentIdFor(req.agentName);
  const runId = uuidv7();
  const token = randomToken('tfr');
  const tokenHash = sha256Hex(token);
  const started = createEvent(
    'AgentRunStarted',
    { runId, agentId, agentName: req.agentName, gatewayId: req.gatewayId, tokenHash, command: req.command, hostname: req.hostname, pid: req.pid, startedBy: req.startedBy },
    { correlationId: runId, source: deps.source, traceparent: traceparent ?? null },
  );
  await deps.streams.append(runStream(runId), [started], 'no_stream');
  const entry: RunEntry = { runId, agentId, agentName: req.agentName, gatewayId: req.gatewayId, startedAt: started.time };
  await applyToKv(`run ${runId}`, () => deps.kv.runs.put(tokenHash, entry));
  deps.log.info({ runId, agentId, gatewayId: req.gatewayId }, 'agent run started');
  return { runId, agentId, gatewayId: req.gatewayId, token };
}

/**
 * Ends a run: records `AgentRunEnded` once and deletes the token from KV, so the ingress refuses
 * it from then on. Safe to retry: a run already ended only has its token deleted again.
 *
 * @throws `TF_ERR_CONTROL_UNKNOWN_RUN` when no such run was started.
 */
export async function endRun(deps: ControlDeps, req: RunEndRequest, traceparent?: string): Promise<RunEndReply> {
  const stream = runStream(req.runId);
  const state = await deps.streams.read(stream);
  const started = state.events.find((e): e is EventEnvelope<'AgentRunStarted'> => e.type === 'AgentRunStarted');
  if (state.version === 'no_stream' || !started) {
    throw controlError(ControlErrorCode.UnknownRun, `run ${req.runId} was never started`, { details: { runId: req.runId } });
  }
  let ended = state.events.find((e): e is EventEnvelope<'AgentRunEnded'> => e.type === 'AgentRunEnded');
  const alreadyEnded = ended !== undefined;
  if (!ended) {
    ended = createEvent(
      'AgentRunEnded',
      { runId: req.runId, agentId: started.data.agentId, gatewayId: started.data.gatewayId, exitCode: req.exitCode, signal: req.signal, durationMs: req.durationMs },
      { correlationId: req.runId, causationId: started.id, source: deps.source, traceparent: traceparent ?? null },
    );
    await deps.streams.append(stream, [ended], state.version);
  }
  await applyToKv(`run ${req.runId}`, () => deps.kv.runs.delete(started.data.tokenHash));
  if (!alreadyEnded) deps.log.info({ runId: req.runId, exitCode: req.exitCode, signal: req.signal }, 'agent run ended');
  return { runId: req.runId, agentId: started.data.agentId, gatewayId: started.data.gatewayId, endedAt: ended.time, alreadyEnded };
}
