import { Type } from '@sinclair/typebox';
import { CredentialInjectionSchema, EnforcementModeSchema, KillSwitchScopeSchema, RoleSchema } from '../action.ts';
import { Name, NonNegativeInt, Sha256Hex, Strict, Text, Uuid } from '../schema.ts';

export const KillSwitchEngagedV1 = Type.Object(
  { killSwitchId: Uuid, scope: KillSwitchScopeSchema, reason: Text(1000), engagedBy: Text(200) },
  Strict,
);
export const KillSwitchReleasedV1 = Type.Object(
  { killSwitchId: Uuid, scope: KillSwitchScopeSchema, releasedBy: Text(200) },
  Strict,
);
/** One ingress replica confirming it applied an engage or release, and how long after the command it did. */
export const KillSwitchAcknowledgedV1 = Type.Object(
  {
    killSwitchId: Uuid,
    scope: KillSwitchScopeSchema,
    state: Type.Union([Type.Literal('engaged'), Type.Literal('released')]),
    ingressId: Text(100),
    latencyMs: Type.Number({ minimum: 0 }),
    cutConnections: NonNegativeInt,
  },
  Strict,
);

export const PolicyBundlePublishedV1 = Type.Object(
  {
    gatewayId: Name,
    version: Type.Integer({ minimum: 1 }),
    hash: Sha256Hex,
    /** The bundle's YAML source, exactly as applied. */
    source: Type.String({ maxLength: 4 * 1024 * 1024 }),
    ruleCount: NonNegativeInt,
    publishedBy: Text(200),
  },
  Strict,
);

export const GatewayCreatedV1 = Type.Object({ gatewayId: Name, name: Text(200), mode: EnforcementModeSchema, createdBy: Text(200) }, Strict);
export const GatewayModeChangedV1 = Type.Object({ gatewayId: Name, mode: EnforcementModeSchema, changedBy: Text(200) }, Strict);

/** A connector enabled on a gateway, with the secret it injects. Never carries the secret itself. */
export const ConnectorConfiguredV1 = Type.Object(
  {
    gatewayId: Name,
    connectorId: Name,
    kind: Name,
    secretName: Type.Union([Name, Type.Null()]),
    injection: Type.Union([CredentialInjectionSchema, Type.Null()]),
    /** Extra domains (GitHub Enterprise, an internal API) and options, as configured. */
    domains: Type.Array(Text(253), { maxItems: 100 }),
    options: Type.Record(Type.String({ maxLength: 100 }), Type.Union([Type.String({ maxLength: 512 * 1024 }), Type.Number(), Type.Boolean()])),
    configuredBy: Text(200),
  },
  Strict,
);
export const ConnectorRemovedV1 = Type.Object({ gatewayId: Name, connectorId: Name, removedBy: Text(200) }, Strict);

export const AgentRunStartedV1 = Type.Object(
  {
    runId: Uuid,
    agentId: Name,
    agentName: Text(200),
    gatewayId: Name,
    /** SHA-256 of the run token; the token itself is never recorded. */
    tokenHash: Sha256Hex,
    command: Text(500),
    hostname: Text(253),
    pid: NonNegativeInt,
    startedBy: Text(200),
  },
  Strict,
);
export const AgentRunEndedV1 = Type.Object(
  {
    runId: Uuid,
    agentId: Name,
    gatewayId: Name,
    exitCode: Type.Union([Type.Integer(), Type.Null()]),
    signal: Type.Union([Text(20), Type.Null()]),
    durationMs: Type.Number({ minimum: 0 }),
  },
  Strict,
);

export const ApiTokenIssuedV1 = Type.Object(
  { tokenId: Uuid, name: Text(200), role: RoleSchema, tokenHash: Sha256Hex, issuedBy: Text(200) },
  Strict,
);
export const ApiTokenRevokedV1 = Type.Object({ tokenId: Uuid, revokedBy: Text(200) }, Strict);
