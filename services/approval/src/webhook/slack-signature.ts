import { createHmac, timingSafeEqual } from 'node:crypto';
import { ApprovalErrorCode, approvalError } from '@tameflare/approvals';

/** Slack refuses requests older than five minutes; so do we, against replays. */
export const SLACK_TIMESTAMP_TOLERANCE_SECONDS = 300;

/** Slack's v0 signature: `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<raw body>` under the signing secret. */
export function slackSignature(signingSecret: string, timestamp: string, rawBody: string | Buffer): string {
  const h = createHmac('sha256', signingSecret);
  h.update(`v0:${timestamp}:`);
  h.update(rawBody);
  return `v0=${h.digest('hex')}`;
}

export interface VerifySlackRequest {
  signingSecret: string;
  /** `X-Slack-Request-Timestamp`: Unix seconds. */
  timestamp: string | undefined;
  /** `X-Slack-Signature`: `v0=<hex>`. */
  signature: string | undefined;
  /** The body exactly as received, before any parsing. */
  rawBody: string | Buffer;
  now?: Date;
}

/**
 * Verifies a Slack-signed request: timestamp within five minutes of now, and a signature that
 * matches, compared in constant time.
 *
 * @throws ApprovalError `TF_ERR_APPROVAL_BAD_SIGNATURE` naming what failed (never the expected value).
 */
export function verifySlackSignature(r: VerifySlackRequest): void {
  const bad = (why: string) => approvalError(ApprovalErrorCode.BadSignature, `webhook callback refused: ${why}`);
  if (!r.timestamp || !/^\d{1,12}$/.test(r.timestamp)) throw bad('missing or malformed X-Slack-Request-Timestamp');
  if (!r.signature || !/^v0=[0-9a-f]{64}$/.test(r.signature)) throw bad('missing or malformed X-Slack-Signature');
  const nowSeconds = Math.floor((r.now ?? new Date()).getTime() / 1000);
  if (Math.abs(nowSeconds - Number(r.timestamp)) > SLACK_TIMESTAMP_TOLERANCE_SECONDS) throw bad('timestamp is more than five minutes from now');
  const expected = Buffer.from(slackSignature(r.signingSecret, r.timestamp, r.rawBody), 'utf8');
  const given = Buffer.from(r.signature, 'utf8');
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw bad('signature does not match');
}
