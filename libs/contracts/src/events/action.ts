import { Type } from '@sinclair/typebox';
import { ActionSchema, CredentialInjectionSchema, DecisionSchema, EnforcementModeSchema, RoleSchema } from '../action.ts';
import { Name, NonNegativeInt, Sha256Hex, Strict, Text, Uuid } from '../schema.ts';

/** What the agent sent, minus anything that could carry a secret (no header values but a safe few, no body). */
export const RequestSummarySchema = Type.Object(
  {
    method: Type.String({ pattern: '^[A-Z]{1,20}$' }),
    scheme: Type.Union([Type.Literal('http'), Type.Literal('https'), Type.Literal('ws'), Type.Literal('wss')]),
    host: Text(253),
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    path: Text(4096),
    query: Text(8192),
    contentType: Type.Union([Text(200), Type.Null()]),
    contentLength: Type.Union([NonNegativeInt, Type.Null()]),
    /** SHA-256 of the whole body when it was read in full (within the parse limit), else null. */
    bodyDigest: Type.Union([Sha256Hex, Type.Null()]),
    /** True when the body was larger than the parse limit and only a prefix was inspected. */
    bodyTruncated: Type.Boolean(),
    userAgent: Type.Union([Text(300), Type.Null()]),
  },
  Strict,
);

/** The agent run an action belongs to. Repeated on every action event so each stands alone in an audit export. */
const Actor = {
  actionId: Uuid,
  gatewayId: Name,
  agentId: Name,
  runId: Uuid,
};

export const ActionRequestedV1 = Type.Object(
  {
    ...Actor,
    agentName: Text(200),
    ingressId: Text(100),
    connectionId: Text(100),
    request: RequestSummarySchema,
    /** The classification by the connectors library (recorded here, not as a separate event: see docs/events.md). */
    action: ActionSchema,
    classifierVersion: Text(50),
    /** Digest of method, URL, action type, parameters and body digest: what an approval is bound to. */
    requestDigest: Sha256Hex,
  },
  Strict,
);

export const ApprovalRequirementSchema = Type.Object(
  {
    approverRoles: Type.Array(RoleSchema, { minItems: 1, maxItems: 3 }),
    quorum: Type.Integer({ minimum: 1, maximum: 10 }),
    timeoutMs: Type.Integer({ minimum: 1000, maximum: 7 * 24 * 3600 * 1000 }),
  },
  Strict,
);

export const ActionDecidedV1 = Type.Object(
  {
    ...Actor,
    decision: DecisionSchema,
    /** False in monitor mode: the decision was recorded but the request was let through. */
    enforced: Type.Boolean(),
    mode: EnforcementModeSchema,
    reason: Text(1000),
    /** Every rule whose match and condition held, in bundle order. */
    matchedRules: Type.Array(Text(200), { maxItems: 1000 }),
    /** The rule that set the decision, or null when nothing matched (default deny) or policy was not consulted. */
    decidingRule: Type.Union([Text(200), Type.Null()]),
    /** The bundle that decided; null when the ingress decided before policy (kill switch, egress guard). */
    policy: Type.Union([Type.Object({ version: NonNegativeInt, hash: Sha256Hex }, Strict), Type.Null()]),
    decidedBy: Type.Union([Type.Literal('policy'), Type.Literal('kill_switch'), Type.Literal('egress'), Type.Literal('approval')]),
    killSwitchId: Type.Union([Uuid, Type.Null()]),
    /** Digest of the exact evaluation input, so the decision can be recomputed later. */
    inputDigest: Sha256Hex,
    approval: Type.Union([ApprovalRequirementSchema, Type.Null()]),
    /** A CEL evaluation error that forced a deny, recorded so it can be fixed. */
    error: Type.Union([Type.Object({ code: Text(100), message: Text(1000) }, Strict), Type.Null()]),
    evaluationMicros: Type.Number({ minimum: 0 }),
    /**
     * The session aggregate values (`session.<name>` in conditions) the decision used, part of
     * the digested input; absent when no rule read any. Recorded so a session-aware decision
     * recomputes exactly, whatever other replicas were doing at the time.
     */
    session: Type.Optional(Type.Record(Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$' }), Type.Number(), { maxProperties: 100 })),
  },
  Strict,
);

export const CredentialReleasedV1 = Type.Object(
  {
    ...Actor,
    approvalId: Type.Union([Uuid, Type.Null()]),
    connector: Name,
    secretId: Uuid,
    secretName: Name,
    secretVersion: Type.Integer({ minimum: 1 }),
    injection: CredentialInjectionSchema,
    /** The one ingress instance the credential was sealed to. */
    ingressId: Text(100),
  },
  Strict,
);

export const ActionOutcomeSchema = Type.Union([
  Type.Literal('completed'),
  Type.Literal('upstream_error'),
  Type.Literal('client_aborted'),
  Type.Literal('killed'),
  Type.Literal('denied'),
  Type.Literal('approval_denied'),
  Type.Literal('approval_expired'),
  Type.Literal('unavailable'),
]);

export const ActionCompletedV1 = Type.Object(
  {
    ...Actor,
    outcome: ActionOutcomeSchema,
    /** The status the agent received (the upstream's, or the gateway's own 403/408/503). */
    status: Type.Union([Type.Integer({ minimum: 100, maximum: 599 }), Type.Null()]),
    /** True when the request reached the upstream. */
    forwarded: Type.Boolean(),
    bytesIn: NonNegativeInt,
    bytesOut: NonNegativeInt,
    upstreamMs: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]),
    totalMs: Type.Number({ minimum: 0 }),
    credential: Type.Union([Type.Object({ secretName: Name, secretVersion: Type.Integer({ minimum: 1 }) }, Strict), Type.Null()]),
    approvalId: Type.Union([Uuid, Type.Null()]),
    /** How many copies of an injected secret were redacted from the response. */
    redactions: NonNegativeInt,
    error: Type.Union([Type.Object({ code: Text(100), message: Text(1000) }, Strict), Type.Null()]),
  },
  Strict,
);
