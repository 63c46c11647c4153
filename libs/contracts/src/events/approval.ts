import { Type } from '@sinclair/typebox';
import { ActionSchema, RoleSchema } from '../action.ts';
import { IsoTime, Name, Sha256Hex, Strict, Text, Uuid } from '../schema.ts';

const Ref = {
  approvalId: Uuid,
  actionId: Uuid,
  gatewayId: Name,
  agentId: Name,
  runId: Uuid,
};

export const ApprovalChannelSchema = Type.Union([
  Type.Literal('cli'),
  Type.Literal('graphql'),
  Type.Literal('dashboard'),
  Type.Literal('webhook'),
  Type.Literal('system'),
]);

export const ApprovalRequestedV1 = Type.Object(
  {
    ...Ref,
    agentName: Text(200),
    /** Digest of the exact request the approver is shown; only a request with this digest can be released. */
    requestDigest: Sha256Hex,
    request: Type.Object(
      {
        method: Text(20),
        url: Text(8192),
        action: ActionSchema,
        bodyDigest: Type.Union([Sha256Hex, Type.Null()]),
      },
      Strict,
    ),
    ruleId: Type.Union([Text(200), Type.Null()]),
    reason: Text(1000),
    approverRoles: Type.Array(RoleSchema, { minItems: 1, maxItems: 3 }),
    quorum: Type.Integer({ minimum: 1, maximum: 10 }),
    timeoutMs: Type.Integer({ minimum: 1000 }),
    expiresAt: IsoTime,
  },
  Strict,
);

export const ApprovalVoteRecordedV1 = Type.Object(
  {
    ...Ref,
    voter: Text(200),
    voterRole: RoleSchema,
    vote: Type.Union([Type.Literal('approve'), Type.Literal('deny')]),
    comment: Type.Union([Text(1000), Type.Null()]),
    channel: ApprovalChannelSchema,
  },
  Strict,
);

export const ApprovalVoteRefusedV1 = Type.Object(
  {
    ...Ref,
    voter: Text(200),
    reason: Type.Union([
      Type.Literal('missing_role'),
      Type.Literal('duplicate_vote'),
      Type.Literal('already_decided'),
      Type.Literal('expired'),
      Type.Literal('digest_mismatch'),
    ]),
    channel: ApprovalChannelSchema,
  },
  Strict,
);

export const ApprovalGrantedV1 = Type.Object({ ...Ref, approvers: Type.Array(Text(200), { minItems: 1 }) }, Strict);

export const ApprovalDeniedV1 = Type.Object(
  {
    ...Ref,
    deniedBy: Type.Union([Text(200), Type.Null()]),
    reason: Text(1000),
    cause: Type.Union([Type.Literal('vote'), Type.Literal('kill_switch')]),
    killSwitchId: Type.Union([Uuid, Type.Null()]),
  },
  Strict,
);

export const ApprovalExpiredV1 = Type.Object({ ...Ref, expiredAt: IsoTime }, Strict);

export const ApprovalCancelledV1 = Type.Object({ ...Ref, reason: Text(1000) }, Strict);

/** The granted request was released to an ingress: at most once per approval. */
export const ApprovalConsumedV1 = Type.Object(
  {
    ...Ref,
    /** The action that carried the approved request upstream (a retry has a new action id). */
    releasedActionId: Uuid,
    ingressId: Text(100),
  },
  Strict,
);
