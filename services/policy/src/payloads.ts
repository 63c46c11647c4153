import {
  decoder,
  ApprovalOpenReplySchema,
  ConnectorEntrySchema,
  DecideRequestSchema,
  GatewayEntrySchema,
  PolicyEntrySchema,
  PolicyHistoryRequestSchema,
  PublishPolicyRequestSchema,
  VaultReleaseReplySchema,
} from '@tameflare/contracts';


export const decodeDecide = decoder(DecideRequestSchema, 'decide request');
export const decodePublish = decoder(PublishPolicyRequestSchema, 'policy publish request');
export const decodeHistory = decoder(PolicyHistoryRequestSchema, 'policy history request');
export const decodePolicyEntry = decoder(PolicyEntrySchema, 'tf_policy entry');
export const decodeGatewayEntry = decoder(GatewayEntrySchema, 'tf_gateways entry');
export const decodeConnectorEntry = decoder(ConnectorEntrySchema, 'tf_connectors entry');
export const decodeVaultReply = decoder(VaultReleaseReplySchema, 'vault release reply');
export const decodeApprovalReply = decoder(ApprovalOpenReplySchema, 'approval open reply');
