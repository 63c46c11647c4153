import { isTameFlareError, schemas, type Role } from '@tameflare/contracts';
import { ApprovalErrorCode, approvalError } from '@tameflare/approvals';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Type } from '@sinclair/typebox';
import type { ApprovalStatusReply, ApprovalVoteRequest } from '@tameflare/contracts';
import { SlackActions } from './slack-message.ts';
import { verifySlackSignature } from './slack-signature.ts';

/** Who a Slack user is for TameFlare: the voter name recorded and the role it votes with. */
export interface WebhookVoter {
  name: string;
  role: Role;
}

export interface CallbackDeps {
  signingSecret: string;
  /** Slack user id → voter. A user not listed here cannot vote. */
  voters: Readonly<Record<string, WebhookVoter>>;
  vote: (v: ApprovalVoteRequest) => Promise<ApprovalStatusReply>;
  now?: () => Date;
}

export interface CallbackRequest {
  rawBody: string;
  timestamp: string | undefined;
  signature: string | undefined;
}

export interface CallbackResponse {
  statusCode: number;
  body: Record<string, unknown>;
}

const PayloadSchema = Type.Object({
  type: Type.Literal('block_actions'),
  user: Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) }),
  actions: Type.Array(
    Type.Object({ action_id: Type.Union([Type.Literal(SlackActions.approve), Type.Literal(SlackActions.deny)]), value: schemas.Uuid }),
    { minItems: 1, maxItems: 1 },
  ),
});
const payloadCheck = TypeCompiler.Compile(PayloadSchema);

const statusOf: Record<string, number> = {
  [ApprovalErrorCode.BadSignature]: 401,
  [ApprovalErrorCode.Invalid]: 400,
  [ApprovalErrorCode.Forbidden]: 403,
  [ApprovalErrorCode.NotFound]: 404,
  [ApprovalErrorCode.AlreadyDecided]: 409,
  [ApprovalErrorCode.DuplicateVote]: 409,
  [ApprovalErrorCode.Expired]: 409,
  [ApprovalErrorCode.AlreadyConsumed]: 409,
  [ApprovalErrorCode.Conflict]: 503,
  [ApprovalErrorCode.Unavailable]: 503,
};

/**
 * Handles a Slack interactivity callback (a click on Approve or Deny). The signature is checked
 * on the raw body before anything is parsed; only then is the vote recorded with channel
 * `webhook`, as the voter the Slack user id maps to.
 */
export async function handleSlackCallback(deps: CallbackDeps, req: CallbackRequest): Promise<CallbackResponse> {
  try {
    verifySlackSignature({ signingSecret: deps.signingSecret, timestamp: req.timestamp, signature: req.signature, rawBody: req.rawBody, now: deps.now?.() });
    const form = new URLSearchParams(req.rawBody);
    let payload: unknown;
    try {
      payload = JSON.parse(form.get('payload') ?? '');
    } catch (cause) {
      throw approvalError(ApprovalErrorCode.Invalid, 'callback has no JSON payload field', { cause });
    }
    if (!payloadCheck.Check(payload)) {
      const e = payloadCheck.Errors(payload).First();
      throw approvalError(ApprovalErrorCode.Invalid, `callback payload is not an approval button click (${e?.path ?? '/'}: ${e?.message ?? 'invalid'})`);
    }
    const action = payload.actions[0]!;
    const voter = Object.hasOwn(deps.voters, payload.user.id) ? deps.voters[payload.user.id] : undefined;
    if (!voter) {
      throw approvalError(ApprovalErrorCode.Forbidden, `Slack user ${payload.user.id} is not mapped to a TameFlare voter`, { details: { slackUserId: payload.user.id } });
    }
    const status = await deps.vote({
      approvalId: action.value,
      voter: voter.name,
      voterRole: voter.role,
      vote: action.action_id === SlackActions.approve ? 'approve' : 'deny',
      channel: 'webhook',
    });
    return { statusCode: 200, body: { ok: true, ...status, text: `Recorded: ${status.status}` } };
  } catch (err) {
    if (!isTameFlareError(err)) throw err;
    const unavailable = /^TF_ERR_(STORE|NATS|JETSTREAM|KV)_/.test(err.code);
    return { statusCode: statusOf[err.code] ?? (unavailable ? 503 : 500), body: { ok: false, error: { code: err.code, message: err.message } } };
  }
}
