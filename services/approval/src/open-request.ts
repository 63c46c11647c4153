import { uuidv7, validateEvent, type EventData, type EventEnvelope } from '@tameflare/contracts';
import { ApprovalErrorCode, approvalError } from '@tameflare/approvals';

/** The two events an approval is opened from, checked against each other. */
export interface OpenInput {
  requested: EventEnvelope<'ActionRequested'>;
  decided: EventEnvelope<'ActionDecided'>;
}

/**
 * Validates the `tf.cmd.approval.open` payload: a well-formed `ActionRequested` and the
 * `ActionDecided` (require_approval, with the rule's approval requirement) for the same action.
 *
 * @throws ApprovalError `TF_ERR_APPROVAL_INVALID` (with the contract error as `cause`).
 */
export function parseOpenInput(payload: { requested: unknown; decided: unknown }): OpenInput {
  let requested, decided;
  try {
    requested = validateEvent(payload.requested);
    decided = validateEvent(payload.decided);
  } catch (cause) {
    throw approvalError(ApprovalErrorCode.Invalid, `open: ${(cause as Error).message}`, { cause });
  }
  if (requested.type !== 'ActionRequested') throw approvalError(ApprovalErrorCode.Invalid, 'open: requested must be an ActionRequested event');
  if (decided.type !== 'ActionDecided') throw approvalError(ApprovalErrorCode.Invalid, 'open: decided must be an ActionDecided event');
  if (decided.data.decision !== 'require_approval' || !decided.data.approval) {
    throw approvalError(ApprovalErrorCode.Invalid, `open: the decision is ${decided.data.decision}, not require_approval with a requirement`);
  }
  const r = requested.data;
  const d = decided.data;
  if (d.actionId !== r.actionId || d.runId !== r.runId || d.gatewayId !== r.gatewayId || d.agentId !== r.agentId) {
    throw approvalError(ApprovalErrorCode.Invalid, 'open: the decision is not about this request');
  }
  return { requested, decided };
}

/** The URL the approver is shown, rebuilt from the request summary (default ports left out). */
export function requestUrl(r: EventData<'ActionRequested'>['request']): string {
  const defaultPort = (r.scheme === 'https' || r.scheme === 'wss') ? 443 : 80;
  const port = r.port === defaultPort ? '' : `:${r.port}`;
  const query = r.query === '' ? '' : r.query.startsWith('?') ? r.query : `?${r.query}`;
  return `${r.scheme}://${r.host}${port}${r.path}${query}`;
}

/** The `ApprovalRequested` data for a new approval of this request, expiring after the rule's timeout. */
export function approvalRequestedData(input: OpenInput, now: Date, approvalId: string = uuidv7(now.getTime())): EventData<'ApprovalRequested'> {
  const r = input.requested.data;
  const d = input.decided.data;
  const req = d.approval!;
  return {
    approvalId,
    actionId: r.actionId,
    gatewayId: r.gatewayId,
    agentId: r.agentId,
    runId: r.runId,
    agentName: r.agentName,
    requestDigest: r.requestDigest,
    request: { method: r.request.method, url: requestUrl(r.request), action: r.action, bodyDigest: r.request.bodyDigest },
    ruleId: d.decidingRule,
    reason: d.reason,
    approverRoles: req.approverRoles,
    quorum: req.quorum,
    timeoutMs: req.timeoutMs,
    expiresAt: new Date(now.getTime() + req.timeoutMs).toISOString(),
  };
}
