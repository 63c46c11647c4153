import { Type, type Static } from '@sinclair/typebox';
import { EnforcementModeSchema, KillSwitchScopeSchema, RoleSchema } from '../action.ts';
import { IsoTime, Name, Strict, Text, Uuid } from '../schema.ts';

/**
 * Replies and requests of the control service that `commands/control.ts` leaves open, and the
 * error codes it answers with, so the CLI and the audit API can match on them without importing
 * the service.
 */

/** The answer to a run end request. `alreadyEnded` is true when a retry found the run ended. */
export const RunEndReplySchema = Type.Object(
  { runId: Uuid, agentId: Name, gatewayId: Name, endedAt: IsoTime, alreadyEnded: Type.Boolean() },
  Strict,
);
export type RunEndReply = Static<typeof RunEndReplySchema>;

/** The answer to a gateway create or set-mode command: the gateway as now stored. */
export const GatewayReplySchema = Type.Object({ gatewayId: Name, name: Text(200), mode: EnforcementModeSchema, created: Type.Boolean() }, Strict);
export type GatewayReply = Static<typeof GatewayReplySchema>;

/** `tf.cmd.control.connector.remove` */
export const ConnectorRemoveRequestSchema = Type.Object({ gatewayId: Name, connectorId: Name, actor: Text(200) }, Strict);
export type ConnectorRemoveRequest = Static<typeof ConnectorRemoveRequestSchema>;
/** The answer to a connector remove request. */
export const ConnectorRemoveReplySchema = Type.Object({ gatewayId: Name, connectorId: Name, removed: Type.Literal(true) }, Strict);
export type ConnectorRemoveReply = Static<typeof ConnectorRemoveReplySchema>;
/** The answer to a connector configure request: the entry as stored in KV. */
export const ConnectorConfigureReplySchema = Type.Object({ gatewayId: Name, connectorId: Name, kind: Name, domains: Type.Array(Text(253)), created: Type.Boolean() }, Strict);
export type ConnectorConfigureReply = Static<typeof ConnectorConfigureReplySchema>;

/** `tf.cmd.control.token.revoke` */
export const TokenRevokeRequestSchema = Type.Object({ tokenId: Uuid, actor: Text(200) }, Strict);
export type TokenRevokeRequest = Static<typeof TokenRevokeRequestSchema>;
export const TokenRevokeReplySchema = Type.Object({ tokenId: Uuid, name: Text(200), role: RoleSchema, revoked: Type.Literal(true) }, Strict);
export type TokenRevokeReply = Static<typeof TokenRevokeReplySchema>;

/** An engage or release refused because of the switch's current state; carries what is engaged now. */
export const KillSwitchStateDetailsSchema = Type.Object(
  { scope: KillSwitchScopeSchema, killSwitchId: Type.Union([Uuid, Type.Null()]), reason: Type.Union([Text(1000), Type.Null()]) },
  Strict,
);
export type KillSwitchStateDetails = Static<typeof KillSwitchStateDetailsSchema>;

/** Codes the control service answers with (as RemoteError codes on the caller's side). */
export const ControlErrorCode = {
  /** A payload that breaks its schema (bad scope kind, bad name...). Nothing changed. */
  Invalid: 'TF_ERR_CONTROL_INVALID',
  /** `run.start` (or a connector) names a gateway that does not exist. */
  UnknownGateway: 'TF_ERR_CONTROL_UNKNOWN_GATEWAY',
  /** `gateway.create` for an id that exists with other settings. */
  GatewayExists: 'TF_ERR_CONTROL_GATEWAY_EXISTS',
  /** `run.end` for a run that was never started. */
  UnknownRun: 'TF_ERR_CONTROL_UNKNOWN_RUN',
  /** `connector.remove` for a connector that is not configured on the gateway. */
  UnknownConnector: 'TF_ERR_CONTROL_UNKNOWN_CONNECTOR',
  /** `token.revoke` for a token that was never issued or is already revoked. */
  UnknownToken: 'TF_ERR_CONTROL_UNKNOWN_TOKEN',
  /** `killswitch.engage` for a scope that is already engaged (details: the engaged switch). */
  KillSwitchEngaged: 'TF_ERR_CONTROL_KILLSWITCH_ENGAGED',
  /** `killswitch.release` for a scope that is not engaged. */
  KillSwitchNotEngaged: 'TF_ERR_CONTROL_KILLSWITCH_NOT_ENGAGED',
  /** The event store or KV could not record the change; nothing took effect (or retry). */
  Unavailable: 'TF_ERR_CONTROL_UNAVAILABLE',
  /** Another command changed the same stream at the same time; retry. */
  Conflict: 'TF_ERR_CONTROL_CONFLICT',
} as const;
