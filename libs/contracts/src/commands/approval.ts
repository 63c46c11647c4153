import { Type, type Static } from '@sinclair/typebox';
import { RoleSchema } from '../action.ts';
import { IsoTime, Sha256Hex, Strict, Text, Uuid } from '../schema.ts';
import { IngressKeySchema, SealedCredentialSchema } from '../sealed.ts';

export const ApprovalStatusSchema = Type.Union([
  Type.Literal('pending'),
  Type.Literal('granted'),
  Type.Literal('denied'),
  Type.Literal('expired'),
  Type.Literal('cancelled'),
  Type.Literal('consumed'),
]);
export type ApprovalStatus = Static<typeof ApprovalStatusSchema>;

/**
 * `tf.cmd.approval.open` (from the policy service only): open an approval for an action that
 * requires one, or join the approval already bound to the same run and request digest.
 */
export const ApprovalOpenRequestSchema = Type.Object(
  {
    requested: Type.Unknown({ description: 'ActionRequested event envelope' }),
    decided: Type.Unknown({ description: 'ActionDecided event envelope (decision require_approval)' }),
  },
  Strict,
);
export type ApprovalOpenRequest = Static<typeof ApprovalOpenRequestSchema>;
export const ApprovalOpenReplySchema = Type.Object(
  { approvalId: Uuid, status: Type.Union([Type.Literal('pending'), Type.Literal('granted')]), expiresAt: IsoTime },
  Strict,
);
export type ApprovalOpenReply = Static<typeof ApprovalOpenReplySchema>;

/** `tf.cmd.approval.status` */
export const ApprovalStatusRequestSchema = Type.Object({ approvalId: Uuid }, Strict);
export const ApprovalStatusReplySchema = Type.Object(
  {
    approvalId: Uuid,
    status: ApprovalStatusSchema,
    expiresAt: IsoTime,
    quorum: Type.Integer({ minimum: 1 }),
    approvals: Type.Array(Text(200)),
    deniedBy: Type.Union([Text(200), Type.Null()]),
    reason: Type.Union([Text(1000), Type.Null()]),
  },
  Strict,
);
export type ApprovalStatusReply = Static<typeof ApprovalStatusReplySchema>;

/**
 * `tf.cmd.approval.claim` (from an ingress): release a granted approval for the request it was
 * granted for, exactly once. The approval service appends `ApprovalConsumed` with an expected
 * version, then has the vault seal the connector's credential to this ingress.
 */
export const ApprovalClaimRequestSchema = Type.Object(
  { approvalId: Uuid, actionId: Uuid, runId: Uuid, requestDigest: Sha256Hex, ingress: IngressKeySchema },
  Strict,
);
export type ApprovalClaimRequest = Static<typeof ApprovalClaimRequestSchema>;
export const ApprovalClaimReplySchema = Type.Object({ approvalId: Uuid, credential: Type.Union([SealedCredentialSchema, Type.Null()]) }, Strict);
export type ApprovalClaimReply = Static<typeof ApprovalClaimReplySchema>;

/** `tf.cmd.approval.vote`: one person's approve or deny. Roles come from the caller's API token. */
export const ApprovalVoteRequestSchema = Type.Object(
  {
    approvalId: Uuid,
    voter: Text(200),
    voterRole: RoleSchema,
    vote: Type.Union([Type.Literal('approve'), Type.Literal('deny')]),
    comment: Type.Optional(Text(1000)),
    channel: Type.Union([Type.Literal('cli'), Type.Literal('graphql'), Type.Literal('dashboard'), Type.Literal('webhook')]),
  },
  Strict,
);
export type ApprovalVoteRequest = Static<typeof ApprovalVoteRequestSchema>;
