import { Type, type Static } from '@sinclair/typebox';
import { CredentialInjectionSchema, EnforcementModeSchema, KillSwitchScopeSchema, RoleSchema } from '../action.ts';
import { IsoTime, Name, Strict, Text, Uuid } from '../schema.ts';

/** `tf.cmd.control.run.start`: register an agent run and mint its proxy token (returned once, never recorded). */
export const RunStartRequestSchema = Type.Object(
  {
    agentName: Text(200),
    gatewayId: Name,
    command: Text(500),
    hostname: Text(253),
    pid: Type.Integer({ minimum: 0 }),
    startedBy: Text(200),
  },
  Strict,
);
export type RunStartRequest = Static<typeof RunStartRequestSchema>;
export const RunStartReplySchema = Type.Object({ runId: Uuid, agentId: Name, gatewayId: Name, token: Text(200) }, Strict);
export type RunStartReply = Static<typeof RunStartReplySchema>;

/** `tf.cmd.control.run.end` */
export const RunEndRequestSchema = Type.Object(
  {
    runId: Uuid,
    exitCode: Type.Union([Type.Integer(), Type.Null()]),
    signal: Type.Union([Text(20), Type.Null()]),
    durationMs: Type.Number({ minimum: 0 }),
  },
  Strict,
);
export type RunEndRequest = Static<typeof RunEndRequestSchema>;

/** `tf.cmd.control.killswitch.engage` / `.release` */
export const KillSwitchCommandSchema = Type.Object(
  { scope: KillSwitchScopeSchema, reason: Type.Optional(Text(1000)), actor: Text(200) },
  Strict,
);
export type KillSwitchCommand = Static<typeof KillSwitchCommandSchema>;

/** The answer to an engage or release: which replicas applied it, and how fast. */
export const KillSwitchReplySchema = Type.Object(
  {
    killSwitchId: Uuid,
    state: Type.Union([Type.Literal('engaged'), Type.Literal('released')]),
    /** Live ingress replicas when the command was issued. */
    expected: Type.Integer({ minimum: 0 }),
    acknowledgements: Type.Array(
      Type.Object({ ingressId: Text(100), latencyMs: Type.Number({ minimum: 0 }), cutConnections: Type.Integer({ minimum: 0 }) }, Strict),
    ),
    /** Latency of the slowest acknowledgement, or null when none arrived in time. */
    tookEffectMs: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]),
  },
  Strict,
);
export type KillSwitchReply = Static<typeof KillSwitchReplySchema>;

/** Published by an ingress on `tf.ctl.killswitch.ack` after it applied a kill-switch change. */
export const KillSwitchAckSchema = Type.Object(
  {
    killSwitchId: Uuid,
    state: Type.Union([Type.Literal('engaged'), Type.Literal('released')]),
    ingressId: Text(100),
    appliedAt: IsoTime,
    cutConnections: Type.Integer({ minimum: 0 }),
  },
  Strict,
);
export type KillSwitchAck = Static<typeof KillSwitchAckSchema>;

/** `tf.cmd.control.gateway.create` / `.set_mode` */
export const GatewayCommandSchema = Type.Object({ gatewayId: Name, name: Type.Optional(Text(200)), mode: EnforcementModeSchema, actor: Text(200) }, Strict);
export type GatewayCommand = Static<typeof GatewayCommandSchema>;

/** `tf.cmd.control.connector.configure` */
export const ConnectorConfigureRequestSchema = Type.Object(
  {
    gatewayId: Name,
    connectorId: Name,
    kind: Name,
    secretName: Type.Union([Name, Type.Null()]),
    injection: Type.Union([CredentialInjectionSchema, Type.Null()]),
    domains: Type.Array(Text(253), { maxItems: 100 }),
    options: Type.Record(Type.String({ maxLength: 100 }), Type.Union([Type.String({ maxLength: 512 * 1024 }), Type.Number(), Type.Boolean()])),
    actor: Text(200),
  },
  Strict,
);
export type ConnectorConfigureRequest = Static<typeof ConnectorConfigureRequestSchema>;

/** `tf.cmd.control.token.issue`: the token is returned once; only its hash is recorded. */
export const TokenIssueRequestSchema = Type.Object({ name: Text(200), role: RoleSchema, actor: Text(200) }, Strict);
export type TokenIssueRequest = Static<typeof TokenIssueRequestSchema>;
export const TokenIssueReplySchema = Type.Object({ tokenId: Uuid, token: Text(200), role: RoleSchema }, Strict);
export type TokenIssueReply = Static<typeof TokenIssueReplySchema>;

/** Value in KV `tf_api_tokens` under the SHA-256 of an API token. */
export const ApiTokenEntrySchema = Type.Object({ tokenId: Uuid, name: Text(200), role: RoleSchema, issuedAt: IsoTime }, Strict);
export type ApiTokenEntry = Static<typeof ApiTokenEntrySchema>;
