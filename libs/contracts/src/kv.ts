import { Type, type Static } from '@sinclair/typebox';
import { CredentialInjectionSchema, EnforcementModeSchema, KillSwitchScopeSchema } from './action.ts';
import { IsoTime, Name, Sha256Hex, Strict, Text, Uuid } from './schema.ts';

/** Value in KV `tf_runs` under the SHA-256 of the run token. */
export const RunEntrySchema = Type.Object(
  { runId: Uuid, agentId: Name, agentName: Text(200), gatewayId: Name, startedAt: IsoTime },
  Strict,
);
export type RunEntry = Static<typeof RunEntrySchema>;

/** Value in KV `tf_killswitch` under the scope key. Deleting the key releases it. */
export const KillSwitchEntrySchema = Type.Object(
  { killSwitchId: Uuid, scope: KillSwitchScopeSchema, reason: Text(1000), engagedBy: Text(200), engagedAt: IsoTime },
  Strict,
);
export type KillSwitchEntry = Static<typeof KillSwitchEntrySchema>;

/** Value in KV `tf_policy` under the gateway id: the active bundle. */
export const PolicyEntrySchema = Type.Object(
  { gatewayId: Name, version: Type.Integer({ minimum: 1 }), hash: Sha256Hex, source: Type.String(), publishedAt: IsoTime },
  Strict,
);
export type PolicyEntry = Static<typeof PolicyEntrySchema>;

/** Value in KV `tf_gateways` under the gateway id. */
export const GatewayEntrySchema = Type.Object({ gatewayId: Name, name: Text(200), mode: EnforcementModeSchema }, Strict);
export type GatewayEntry = Static<typeof GatewayEntrySchema>;

/** Value in KV `tf_connectors` under `<gateway>.<connector>`. */
export const ConnectorEntrySchema = Type.Object(
  {
    gatewayId: Name,
    connectorId: Name,
    kind: Name,
    secretName: Type.Union([Name, Type.Null()]),
    injection: Type.Union([CredentialInjectionSchema, Type.Null()]),
    domains: Type.Array(Text(253)),
    options: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
  },
  Strict,
);
export type ConnectorEntry = Static<typeof ConnectorEntrySchema>;

/** Value in KV `tf_instances` under the ingress id; refreshed by heartbeats, expires with the bucket TTL. */
export const InstanceEntrySchema = Type.Object(
  { ingressId: Text(100), service: Text(50), startedAt: IsoTime, heartbeatAt: IsoTime, proxyUrl: Type.Union([Text(200), Type.Null()]) },
  Strict,
);
export type InstanceEntry = Static<typeof InstanceEntrySchema>;
