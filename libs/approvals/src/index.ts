export { ApprovalError, ApprovalErrorCode, approvalError, type ApprovalErrorCodeValue } from './errors.ts';
export {
  approvalEventTypes,
  initialState,
  isApprovalEvent,
  voterKey,
  deadlineOf,
  isExpiryDue,
  type ApprovalEvent,
  type ApprovalEventType,
  type ApprovalState,
  type OpenedApproval,
  type AbsentApproval,
  type RecordedVote,
} from './state.ts';
export { evolve, fold } from './evolve.ts';
export { decide } from './decide.ts';
export type {
  ApprovalCommand,
  RequestApproval,
  CastVote,
  ConsumeApproval,
  ExpireApproval,
  DenyByKillSwitch,
  CancelApproval,
  Decision,
} from './commands.ts';
export { statusReply } from './view.ts';
