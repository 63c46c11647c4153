import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { Static, TSchema } from '@sinclair/typebox';
import {
  ConnectorConfigureRequestSchema,
  ConnectorRemoveRequestSchema,
  GatewayCommandSchema,
  GatewayEntrySchema,
  InstanceEntrySchema,
  KillSwitchAckSchema,
  KillSwitchCommandSchema,
  RunEndRequestSchema,
  RunStartRequestSchema,
  TokenIssueRequestSchema,
  TokenRevokeRequestSchema,
} from '@tameflare/contracts';
import { ControlErrorCode, controlError } from './errors.ts';

/** A decoder that refuses anything off-contract with `TF_ERR_CONTROL_INVALID`, naming the first bad path. */
function decoder<S extends TSchema>(schema: S, what: string): (value: unknown) => Static<S> {
  const check = TypeCompiler.Compile(schema);
  return (value) => {
    if (check.Check(value)) return value;
    const e = check.Errors(value).First();
    throw controlError(ControlErrorCode.Invalid, `invalid ${what}: ${e ? `${e.path || '/'} ${e.message}` : 'invalid'}`);
  };
}

export const decodeRunStart = decoder(RunStartRequestSchema, 'run start request');
export const decodeRunEnd = decoder(RunEndRequestSchema, 'run end request');
export const decodeKillSwitch = decoder(KillSwitchCommandSchema, 'kill switch command');
export const decodeKillSwitchAck = decoder(KillSwitchAckSchema, 'kill switch acknowledgement');
export const decodeGateway = decoder(GatewayCommandSchema, 'gateway command');
export const decodeConnectorConfigure = decoder(ConnectorConfigureRequestSchema, 'connector configure request');
export const decodeConnectorRemove = decoder(ConnectorRemoveRequestSchema, 'connector remove request');
export const decodeTokenIssue = decoder(TokenIssueRequestSchema, 'token issue request');
export const decodeTokenRevoke = decoder(TokenRevokeRequestSchema, 'token revoke request');
export const decodeInstance = decoder(InstanceEntrySchema, 'tf_instances entry');
export const decodeGatewayEntry = decoder(GatewayEntrySchema, 'tf_gateways entry');
