import type { EventData } from '@tameflare/contracts';
import type { ApprovalCommand, CastVote, ConsumeApproval, Decision, DenyByKillSwitch, CancelApproval, RequestApproval } from './commands.ts';
import { ApprovalErrorCode, approvalError, type ApprovalErrorCodeValue } from './errors.ts';
import { isExpiryDue, voterKey, type ApprovalEvent, type ApprovalState, type OpenedApproval } from './state.ts';

/**
 * Decides what a command does to an approval: the events to append, or a typed refusal with a
 * `TF_ERR_APPROVAL_*` code. Pure: time comes in the command, so the same state and command
 * always give the same answer (which is what lets replicas race on an expected version and
 * lets property tests explore every order of commands).
 */
export function decide(command: ApprovalCommand, state: ApprovalState): Decision {
  if (command.type === 'RequestApproval') return request(command, state);
  if (!state.exists) return refuse(ApprovalErrorCode.NotFound, 'no such approval');
  switch (command.type) {
    case 'CastVote':
      return vote(command, state);
    case 'ConsumeApproval':
      return consume(command, state);
    case 'ExpireApproval':
      if (isExpiryDue(state, command.now)) return { ok: true, events: [expired(state, command.now)] };
      return refuse(ApprovalErrorCode.NotDue, `approval is ${state.status} and not due to expire`, state);
    case 'DenyByKillSwitch':
      return killSwitch(command, state);
    case 'CancelApproval':
      return cancel(command, state);
  }
}

function request(c: RequestApproval, state: ApprovalState): Decision {
  if (state.exists) return refuse(ApprovalErrorCode.AlreadyExists, 'approval already requested', state);
  const d = c.data;
  if (new Set(d.approverRoles).size !== d.approverRoles.length) return refuse(ApprovalErrorCode.Invalid, 'approver roles repeat');
  if (!Number.isInteger(d.quorum) || d.quorum < 1) return refuse(ApprovalErrorCode.Invalid, 'quorum must be at least 1');
  const expiresAt = Date.parse(d.expiresAt);
  if (!Number.isFinite(expiresAt) || expiresAt <= c.now.getTime()) {
    return refuse(ApprovalErrorCode.Invalid, 'expiresAt must lie in the future');
  }
  return { ok: true, events: [ev('ApprovalRequested', d, c.now)] };
}

function vote(c: CastVote, s: OpenedApproval): Decision {
  const v = c.data;
  if (voterKey(v.voter) === '') return refuse(ApprovalErrorCode.Invalid, 'voter is empty', s);
  // Checked first so that an attempt without the role is on record whatever the state.
  if (!s.request.approverRoles.includes(v.voterRole)) {
    const refused = ev('ApprovalVoteRefused', { ...ref(s), voter: v.voter, reason: 'missing_role', channel: v.channel }, c.now);
    return refuse(ApprovalErrorCode.Forbidden, `role ${v.voterRole} may not decide this approval (needs ${s.request.approverRoles.join(' or ')})`, s, [refused]);
  }
  if (isExpiryDue(s, c.now) || s.status === 'expired') return expiredRefusal(s, c.now);
  if (s.status !== 'pending') return refuse(ApprovalErrorCode.AlreadyDecided, `approval is already ${s.status}`, s);
  if (s.votes.some((x) => voterKey(x.voter) === voterKey(v.voter))) {
    return refuse(ApprovalErrorCode.DuplicateVote, `${v.voter} already voted on this approval`, s);
  }
  const recorded = ev(
    'ApprovalVoteRecorded',
    { ...ref(s), voter: v.voter, voterRole: v.voterRole, vote: v.vote, comment: v.comment, channel: v.channel },
    c.now,
  );
  if (v.vote === 'deny') {
    const reason = v.comment ?? `denied by ${v.voter}`;
    return { ok: true, events: [recorded, ev('ApprovalDenied', { ...ref(s), deniedBy: v.voter, reason, cause: 'vote', killSwitchId: null }, c.now)] };
  }
  const approvers = [...s.approvers, v.voter];
  if (approvers.length < s.request.quorum) return { ok: true, events: [recorded] };
  return { ok: true, events: [recorded, ev('ApprovalGranted', { ...ref(s), approvers }, c.now)] };
}

function consume(c: ConsumeApproval, s: OpenedApproval): Decision {
  if (s.status === 'consumed') return refuse(ApprovalErrorCode.AlreadyConsumed, 'the approved request was already released', s);
  if (isExpiryDue(s, c.now) || s.status === 'expired') return expiredRefusal(s, c.now);
  if (s.status !== 'granted') return refuse(ApprovalErrorCode.NotGranted, `approval is ${s.status}`, s);
  const d = c.data;
  if (d.requestDigest !== s.request.requestDigest || d.runId !== s.request.runId) {
    return refuse(ApprovalErrorCode.DigestMismatch, 'this request is not the one that was approved', s);
  }
  return {
    ok: true,
    events: [ev('ApprovalConsumed', { ...ref(s), releasedActionId: d.releasedActionId, ingressId: d.ingressId }, c.now)],
  };
}

function killSwitch(c: DenyByKillSwitch, s: OpenedApproval): Decision {
  if (isExpiryDue(s, c.now)) return expiredRefusal(s, c.now);
  // A grant not yet used is revoked too: nothing in the kill switch's scope may go upstream.
  if (s.status !== 'pending' && s.status !== 'granted') return refuse(ApprovalErrorCode.AlreadyDecided, `approval is already ${s.status}`, s);
  const d = c.data;
  return {
    ok: true,
    events: [ev('ApprovalDenied', { ...ref(s), deniedBy: d.engagedBy, reason: `kill switch: ${d.reason}`, cause: 'kill_switch', killSwitchId: d.killSwitchId }, c.now)],
  };
}

function cancel(c: CancelApproval, s: OpenedApproval): Decision {
  if (isExpiryDue(s, c.now)) return expiredRefusal(s, c.now);
  if (s.status !== 'pending') return refuse(ApprovalErrorCode.AlreadyDecided, `approval is already ${s.status}`, s);
  return { ok: true, events: [ev('ApprovalCancelled', { ...ref(s), reason: c.data.reason }, c.now)] };
}

function expiredRefusal(s: OpenedApproval, now: Date): Decision {
  const events = s.status === 'expired' ? [] : [expired(s, now)];
  return refuse(ApprovalErrorCode.Expired, 'approval expired', s, events);
}

function expired(s: OpenedApproval, now: Date): ApprovalEvent {
  return ev('ApprovalExpired', { ...ref(s), expiredAt: now.toISOString() }, now);
}

function ref(s: OpenedApproval) {
  const r = s.request;
  return { approvalId: r.approvalId, actionId: r.actionId, gatewayId: r.gatewayId, agentId: r.agentId, runId: r.runId };
}

function ev<T extends ApprovalEvent['type']>(type: T, data: EventData<T>, now: Date): ApprovalEvent {
  return { type, data, time: now.toISOString() } as ApprovalEvent;
}

function refuse(code: ApprovalErrorCodeValue, message: string, s?: OpenedApproval, events: ApprovalEvent[] = []): Decision {
  const details = s ? { approvalId: s.request.approvalId, status: s.status } : undefined;
  return { ok: false, error: approvalError(code, message, details ? { details } : undefined), events };
}
