import {
  decoder,
  ApprovalClaimRequestSchema,
  ApprovalOpenRequestSchema,
  ApprovalStatusRequestSchema,
  ApprovalVoteRequestSchema,
  ConnectorEntrySchema,
  KillSwitchEntrySchema,
  VaultReleaseReplySchema,
} from '@tameflare/contracts';
import { ApprovalErrorCode, approvalError } from '@tameflare/approvals';

const refuse = (message: string) => approvalError(ApprovalErrorCode.Invalid, message);

export const decodeOpen = decoder(ApprovalOpenRequestSchema, 'approval open request', refuse);
export const decodeStatus = decoder(ApprovalStatusRequestSchema, 'approval status request', refuse);
export const decodeClaim = decoder(ApprovalClaimRequestSchema, 'approval claim request', refuse);
export const decodeVote = decoder(ApprovalVoteRequestSchema, 'approval vote request', refuse);
export const decodeConnector = decoder(ConnectorEntrySchema, 'connector entry', refuse);
export const decodeKillSwitch = decoder(KillSwitchEntrySchema, 'kill switch entry', refuse);
export const decodeVaultRelease = decoder(VaultReleaseReplySchema, 'vault release reply', refuse);
