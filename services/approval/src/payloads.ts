import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { TSchema, Static } from '@sinclair/typebox';
import {
  ApprovalClaimRequestSchema,
  ApprovalOpenRequestSchema,
  ApprovalStatusRequestSchema,
  ApprovalVoteRequestSchema,
  ConnectorEntrySchema,
  KillSwitchEntrySchema,
  VaultReleaseReplySchema,
} from '@tameflare/contracts';
import { ApprovalErrorCode, approvalError } from '@tameflare/approvals';

/** A decoder that refuses anything off-contract with `TF_ERR_APPROVAL_INVALID`, naming the first bad path. */
function decoder<S extends TSchema>(schema: S, what: string): (value: unknown) => Static<S> {
  const check = TypeCompiler.Compile(schema);
  return (value) => {
    if (check.Check(value)) return value;
    const e = check.Errors(value).First();
    throw approvalError(ApprovalErrorCode.Invalid, `${what}: ${e ? `${e.path || '/'} ${e.message}` : 'invalid'}`);
  };
}

export const decodeOpen = decoder(ApprovalOpenRequestSchema, 'approval open request');
export const decodeStatus = decoder(ApprovalStatusRequestSchema, 'approval status request');
export const decodeClaim = decoder(ApprovalClaimRequestSchema, 'approval claim request');
export const decodeVote = decoder(ApprovalVoteRequestSchema, 'approval vote request');
export const decodeConnector = decoder(ConnectorEntrySchema, 'connector entry');
export const decodeKillSwitch = decoder(KillSwitchEntrySchema, 'kill switch entry');
export const decodeVaultRelease = decoder(VaultReleaseReplySchema, 'vault release reply');
