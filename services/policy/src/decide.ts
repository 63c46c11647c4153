import {
  Commands,
  ContractError,
  ContractErrorCode,
  createEvent,
  isTameFlareError,
  validateEvent,
  type ApprovalOpenReply,
  type ConnectorEntry,
  type DecideReply,
  type DecideRequest,
  type EnforcementMode,
  type EventEnvelope,
  type GatewayEntry,
  type SealedCredential,
} from '@tameflare/contracts';
import type { Bus, MessageContext } from '@tameflare/messaging';
import {
  appendSessionEntry,
  buildInput,
  computeSession,
  decidedEventData,
  evaluate,
  sessionEntryFor,
  sessionOverflowResult,
  type EvaluationInput,
  type EvaluationResult,
} from '@tameflare/policy-engine';
import type { BundleRegistry, BundleSnapshot } from './bundle-registry.ts';
import { DecisionErrorCode, PolicyServiceError, PolicyServiceErrorCode } from './errors.ts';
import { decodeApprovalReply, decodeVaultReply } from './payloads.ts';
import type { SessionStore } from './session-store.ts';

/** What the decide handler reads besides the bundle: modes and connectors, kept current by KV watches. */
export interface DecideState {
  gateway(gatewayId: string): GatewayEntry | undefined;
  connector(gatewayId: string, connectorId: string): ConnectorEntry | undefined;
}

export interface DeciderOptions {
  bus: Bus;
  registry: BundleRegistry;
  state: DecideState;
  sessions: SessionStore;
  /** `policy@<instance>`, recorded as the event source. */
  source: string;
  /** Attempts at a compare-and-set session update before answering 503 (default 20). */
  sessionAttempts?: number;
  /** Time allowed to the vault and the approval service (ms, default 2000). */
  downstreamTimeoutMs?: number;
}

/** One evaluation: the input and result that are recorded, and what it needed. */
interface Evaluated {
  input: EvaluationInput;
  result: EvaluationResult;
  policy: { version: number; hash: string } | null;
  time: Date;
  micros: number;
}

const MAX_SESSION_ATTEMPTS = 20;

/** A deny that no rule made (no bundle, unusable bundle, unreadable session), with its reason recorded. */
function forcedDeny(
  d: EventEnvelope<'ActionRequested'>['data'],
  policy: { version: number; hash: string } | null,
  reason: string,
  error: { code: string; message: string },
): Evaluated {
  const time = new Date();
  return {
    input: buildInput(d, time),
    result: { decision: 'deny', matchedRules: [], decidingRule: null, reason, approval: null, error, policy: policy ?? { version: 0, hash: '0'.repeat(64) } },
    policy,
    time,
    micros: 0,
  };
}

/**
 * The `tf.cmd.policy.decide` handler: evaluate with the gateway's active bundle snapshot,
 * record ActionDecided in JetStream and, in parallel, have the vault release the credential
 * when the action goes upstream; reply only when both are done. For require_approval it opens
 * (or joins) the approval after the decision is recorded.
 */
export function createDecider(options: DeciderOptions): (payload: DecideRequest, ctx: MessageContext) => Promise<DecideReply> {
  const { bus, registry, state, sessions, source } = options;
  const attempts = options.sessionAttempts ?? MAX_SESSION_ATTEMPTS;
  const timeoutMs = options.downstreamTimeoutMs ?? 2000;

  const evaluateWith = async (snapshot: BundleSnapshot | undefined, requested: EventEnvelope<'ActionRequested'>): Promise<Evaluated> => {
    const d = requested.data;
    if (!snapshot || snapshot.bundle === null) {
      const message = snapshot
        ? `the active policy bundle (version ${snapshot.version}) cannot be used: ${snapshot.error}`
        : `no policy bundle is published for gateway "${d.gatewayId}"`;
      return forcedDeny(
        d,
        snapshot ? { version: snapshot.version, hash: snapshot.hash } : null,
        snapshot ? 'Denied: the gateway policy cannot be evaluated' : `Denied: gateway "${d.gatewayId}" has no policy yet (tf policy apply)`,
        { code: snapshot ? DecisionErrorCode.BundleUnusable : DecisionErrorCode.NoBundle, message },
      );
    }
    const bundle = snapshot.bundle;
    const policy = { version: bundle.version, hash: bundle.hash };
    const first = buildInput(d, new Date());
    const needs = bundle.sessionNeeds(first);
    const tracked = bundle.tracks(d.action.type);
    if (needs.length === 0 && !tracked) {
      const t0 = performance.now();
      const result = evaluate(bundle, first);
      return { input: first, result, policy, time: new Date(first.time), micros: (performance.now() - t0) * 1000 };
    }
    for (let attempt = 1; attempt <= attempts; attempt++) {
      let read;
      try {
        read = await sessions.read(d.gatewayId, d.agentId);
      } catch (err) {
        if (!isTameFlareError(err)) {
          // The stored state is not a session state: deny and record why, rather than guess.
          return forcedDeny(d, policy, 'Denied: the session state of this agent is unreadable', { code: DecisionErrorCode.SessionCorrupt, message: (err as Error).message });
        }
        throw new PolicyServiceError(PolicyServiceErrorCode.SessionUnavailable, `session state of agent "${d.agentId}" could not be read: ${err.message}`, { cause: err });
      }
      const time = new Date();
      const base = buildInput(d, time);
      const input = { ...base, session: computeSession(bundle, needs, read.entries, base) };
      const t0 = performance.now();
      let result = evaluate(bundle, input);
      const micros = (performance.now() - t0) * 1000;
      if (result.decision !== 'allow' || !tracked) return { input, result, policy, time, micros };
      const entry = sessionEntryFor(bundle, input, d.actionId)!;
      const next = appendSessionEntry(bundle, read.entries, entry);
      if (!next) {
        result = sessionOverflowResult(result);
        return { input, result, policy, time, micros };
      }
      let written: boolean;
      try {
        written = await sessions.write(d.gatewayId, d.agentId, next, read.revision);
      } catch (err) {
        throw new PolicyServiceError(PolicyServiceErrorCode.SessionUnavailable, `session state of agent "${d.agentId}" could not be updated`, { cause: err });
      }
      if (written) return { input, result, policy, time, micros };
      // Another replica recorded an action of this agent meanwhile: decide again on the new state.
    }
    throw new PolicyServiceError(PolicyServiceErrorCode.SessionUnavailable, `session state of agent "${d.agentId}" kept changing during ${attempts} attempts`);
  };

  const release = async (requested: EventEnvelope<'ActionRequested'>, decided: EventEnvelope<'ActionDecided'>, ingress: DecideRequest['ingress']): Promise<SealedCredential | null> => {
    const d = requested.data;
    const connector = state.connector(d.gatewayId, d.action.connector);
    if (!connector?.secretName || !connector.injection) return null;
    try {
      const reply = await bus.request(
        Commands.vaultRelease,
        {
          actionId: d.actionId,
          runId: d.runId,
          agentId: d.agentId,
          gatewayId: d.gatewayId,
          connector: d.action.connector,
          secretName: connector.secretName,
          injection: connector.injection,
          approvalId: null,
          authorizedBy: decided.id,
          ingress,
        },
        { timeoutMs },
      );
      return decodeVaultReply(reply).credential;
    } catch (err) {
      // A missing secret keeps the vault's own code (TF_ERR_VAULT_SECRET_MISSING) and names the secret.
      if (isTameFlareError(err, 'TF_ERR_VAULT_SECRET_MISSING')) throw err;
      throw new PolicyServiceError(
        PolicyServiceErrorCode.CredentialUnavailable,
        `the vault did not release secret "${connector.secretName}" for connector "${d.action.connector}": ${(err as Error).message}`,
        { cause: err, details: { secretName: connector.secretName, connector: d.action.connector } },
      );
    }
  };

  return async (payload, ctx) => {
    const requested = validateEvent(payload.requested);
    if (requested.type !== 'ActionRequested') {
      throw new ContractError(ContractErrorCode.Schema, `decide expects an ActionRequested event, got ${requested.type}`);
    }
    const d = requested.data;
    const mode: EnforcementMode = state.gateway(d.gatewayId)?.mode ?? 'enforce';
    const snapshot = registry.get(d.gatewayId);
    const ev = await evaluateWith(snapshot, requested);
    const decided = createEvent('ActionDecided', decidedEventData(d, ev.input, ev.result, { mode, evaluationMicros: ev.micros, policy: ev.policy }), {
      correlationId: requested.metadata.correlationId,
      causationId: requested.id,
      traceparent: ctx.traceparent ?? null,
      source,
      time: ev.time,
    });
    const upstream = ev.result.decision === 'allow' || mode === 'monitor';
    const recorded = bus.publishEvent(decided).then(
      () => undefined,
      (err: unknown) => {
        throw new PolicyServiceError(PolicyServiceErrorCode.NotRecorded, `decision ${decided.id} was not recorded: ${(err as Error).message}`, { cause: err });
      },
    );
    const credential = upstream ? release(requested, decided, payload.ingress) : Promise.resolve(null);
    const [rec, cred] = await Promise.allSettled([recorded, credential]);
    if (rec.status === 'rejected') throw rec.reason;
    if (cred.status === 'rejected') throw cred.reason;
    let approval: ApprovalOpenReply | null = null;
    if (ev.result.decision === 'require_approval' && mode === 'enforce') {
      try {
        approval = decodeApprovalReply(await bus.request(Commands.approvalOpen, { requested, decided }, { timeoutMs }));
      } catch (err) {
        throw new PolicyServiceError(PolicyServiceErrorCode.ApprovalUnavailable, `the approval for action ${d.actionId} could not be opened: ${(err as Error).message}`, { cause: err });
      }
    }
    return { decided, credential: cred.value, approval };
  };
}
