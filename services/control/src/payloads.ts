import {
  decoder,
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

const refuse = (message: string) => controlError(ControlErrorCode.Invalid, message);

export const decodeRunStart = decoder(RunStartRequestSchema, 'run start request', refuse);
export const decodeRunEnd = decoder(RunEndRequestSchema, 'run end request', refuse);
export const decodeKillSwitch = decoder(KillSwitchCommandSchema, 'kill switch command', refuse);
export const decodeKillSwitchAck = decoder(KillSwitchAckSchema, 'kill switch acknowledgement', refuse);
export const decodeGateway = decoder(GatewayCommandSchema, 'gateway command', refuse);
export const decodeConnectorConfigure = decoder(ConnectorConfigureRequestSchema, 'connector configure request', refuse);
export const decodeConnectorRemove = decoder(ConnectorRemoveRequestSchema, 'connector remove request', refuse);
export const decodeTokenIssue = decoder(TokenIssueRequestSchema, 'token issue request', refuse);
export const decodeTokenRevoke = decoder(TokenRevokeRequestSchema, 'token revoke request', refuse);
export const decodeInstance = decoder(InstanceEntrySchema, 'tf_instances entry', refuse);
export const decodeGatewayEntry = decoder(GatewayEntrySchema, 'tf_gateways entry', refuse);
