import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { Static, TSchema } from '@sinclair/typebox';
import {
  ApprovalOpenReplySchema,
  ConnectorEntrySchema,
  ContractError,
  ContractErrorCode,
  DecideRequestSchema,
  GatewayEntrySchema,
  PolicyEntrySchema,
  PolicyHistoryRequestSchema,
  PublishPolicyRequestSchema,
  VaultReleaseReplySchema,
} from '@tameflare/contracts';

/** A decoder for `serve({ decode })` and KV watches: checks against the schema, naming the first bad path. */
function decoder<S extends TSchema>(schema: S, what: string): (payload: unknown) => Static<S> {
  const check = TypeCompiler.Compile(schema);
  return (payload) => {
    if (check.Check(payload)) return payload;
    const e = check.Errors(payload).First();
    throw new ContractError(ContractErrorCode.Schema, `invalid ${what} at ${e?.path || '/'}: ${e?.message ?? 'invalid'}`);
  };
}

export const decodeDecide = decoder(DecideRequestSchema, 'decide request');
export const decodePublish = decoder(PublishPolicyRequestSchema, 'policy publish request');
export const decodeHistory = decoder(PolicyHistoryRequestSchema, 'policy history request');
export const decodePolicyEntry = decoder(PolicyEntrySchema, 'tf_policy entry');
export const decodeGatewayEntry = decoder(GatewayEntrySchema, 'tf_gateways entry');
export const decodeConnectorEntry = decoder(ConnectorEntrySchema, 'tf_connectors entry');
export const decodeVaultReply = decoder(VaultReleaseReplySchema, 'vault release reply');
export const decodeApprovalReply = decoder(ApprovalOpenReplySchema, 'approval open reply');
