import { createEvent, digestOf, type EventData, type EventEnvelope } from '@tameflare/contracts';
import type { Classification, Identity, Target } from './types.ts';

/** The request as recorded: nothing that could carry a secret (no header values but a safe few, no body). */
export interface RequestFacts {
  method: string;
  target: Target;
  /** `/path?query` as sent. */
  pathAndQuery: string;
  contentType: string | null;
  contentLength: number | null;
  bodyDigest: string | null;
  bodyTruncated: boolean;
  userAgent: string | null;
}

const cut = (s: string | null, n: number) => (s === null ? null : s.length > n ? s.slice(0, n) : s);

/**
 * The digest an approval is bound to: method, URL, action type, parameters and body digest.
 * An identical retry has the same digest and joins (or claims) the same approval.
 */
export function requestDigest(facts: RequestFacts, action: { type: string; params: unknown }): string {
  const t = facts.target;
  return digestOf({
    method: facts.method,
    url: `${t.scheme}://${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}${facts.pathAndQuery}`,
    action: action.type,
    params: action.params,
    bodyDigest: facts.bodyDigest,
  });
}

export function buildRequested(input: {
  actionId: string;
  identity: Identity;
  ingressId: string;
  source: string;
  connectionId: string;
  facts: RequestFacts;
  classification: Classification;
}): EventEnvelope<'ActionRequested'> {
  const { facts, identity } = input;
  const q = facts.pathAndQuery.indexOf('?');
  const data: EventData<'ActionRequested'> = {
    actionId: input.actionId,
    gatewayId: identity.gatewayId,
    agentId: identity.agentId,
    runId: identity.runId,
    agentName: identity.agentName,
    ingressId: input.ingressId,
    connectionId: input.connectionId,
    request: {
      method: facts.method,
      scheme: facts.target.scheme,
      host: facts.target.host,
      port: facts.target.port,
      path: cut(q < 0 ? facts.pathAndQuery : facts.pathAndQuery.slice(0, q), 4096)!,
      query: cut(q < 0 ? '' : facts.pathAndQuery.slice(q + 1), 8192)!,
      contentType: cut(facts.contentType, 200),
      contentLength: facts.contentLength,
      bodyDigest: facts.bodyDigest,
      bodyTruncated: facts.bodyTruncated,
      userAgent: cut(facts.userAgent, 300),
    },
    action: input.classification.action,
    classifierVersion: input.classification.classifierVersion.slice(0, 50),
    requestDigest: requestDigest(facts, input.classification.action),
  };
  return createEvent('ActionRequested', data, { correlationId: input.actionId, source: input.source, id: input.actionId });
}

/** A decision the ingress takes itself, before policy: the kill switch or the egress guard. */
export function buildLocalDecision(
  requested: EventEnvelope<'ActionRequested'>,
  input: { decidedBy: 'kill_switch' | 'egress'; reason: string; killSwitchId: string | null; source: string },
): EventEnvelope<'ActionDecided'> {
  const r = requested.data;
  return createEvent(
    'ActionDecided',
    {
      actionId: r.actionId,
      gatewayId: r.gatewayId,
      agentId: r.agentId,
      runId: r.runId,
      decision: 'deny',
      enforced: true,
      mode: 'enforce',
      reason: input.reason.slice(0, 1000),
      matchedRules: [],
      decidingRule: null,
      policy: null,
      decidedBy: input.decidedBy,
      killSwitchId: input.killSwitchId,
      inputDigest: digestOf({ decidedBy: input.decidedBy, requestDigest: r.requestDigest, reason: input.reason, killSwitchId: input.killSwitchId }),
      approval: null,
      error: null,
      evaluationMicros: 0,
    },
    { correlationId: r.actionId, causationId: requested.id, source: input.source },
  );
}

export type CompletedData = Omit<EventData<'ActionCompleted'>, 'actionId' | 'gatewayId' | 'agentId' | 'runId'>;

export function buildCompleted(
  requested: EventEnvelope<'ActionRequested'>,
  data: CompletedData,
  options: { causationId: string; source: string },
): EventEnvelope<'ActionCompleted'> {
  const r = requested.data;
  return createEvent(
    'ActionCompleted',
    { actionId: r.actionId, gatewayId: r.gatewayId, agentId: r.agentId, runId: r.runId, ...data },
    { correlationId: r.actionId, causationId: options.causationId, source: options.source },
  );
}
