import type { ActionGroup } from './fold-batch.ts';
import type { ColumnSpec } from './unnest-insert.ts';

const c = (name: string, type: ColumnSpec['type']): ColumnSpec => ({ name, type });

/** Set by whichever event creates the action row; never updated. */
export const actionIdentityColumns: readonly ColumnSpec[] = [c('action_id', 'uuid'), c('gateway_id', 'text'), c('agent_id', 'text'), c('run_id', 'uuid')];

/** The columns each event type owns on an action row. */
export const actionGroupColumns: Readonly<Record<ActionGroup, readonly ColumnSpec[]>> = {
  requested: [
    c('agent_name', 'text'),
    c('ingress_id', 'text'),
    c('connection_id', 'text'),
    c('method', 'text'),
    c('scheme', 'text'),
    c('host', 'text'),
    c('port', 'integer'),
    c('path', 'text'),
    c('query', 'text'),
    c('url', 'text'),
    c('content_type', 'text'),
    c('content_length', 'bigint'),
    c('body_digest', 'text'),
    c('body_truncated', 'boolean'),
    c('user_agent', 'text'),
    c('action_type', 'text'),
    c('action_parent', 'text'),
    c('action_verb', 'text'),
    c('connector', 'text'),
    c('resource', 'text'),
    c('params', 'jsonb'),
    c('risk', 'text'),
    c('operation_id', 'text'),
    c('classifier_notes', 'text[]'),
    c('classifier_version', 'text'),
    c('request_digest', 'text'),
    c('requested_at', 'timestamptz'),
    c('requested_event_id', 'uuid'),
  ],
  decided: [
    c('decision', 'text'),
    c('enforced', 'boolean'),
    c('mode', 'text'),
    c('reason', 'text'),
    c('matched_rules', 'text[]'),
    c('deciding_rule', 'text'),
    c('policy_version', 'integer'),
    c('policy_hash', 'text'),
    c('decided_by', 'text'),
    c('kill_switch_id', 'uuid'),
    c('input_digest', 'text'),
    c('approval_requirement', 'jsonb'),
    c('decision_error', 'jsonb'),
    c('evaluation_micros', 'double precision'),
    c('session_values', 'jsonb'),
    c('decided_at', 'timestamptz'),
    c('decided_event_id', 'uuid'),
  ],
  credential: [
    c('credential_secret_id', 'uuid'),
    c('credential_secret_name', 'text'),
    c('credential_secret_version', 'integer'),
    c('credential_connector', 'text'),
    c('credential_injection', 'text'),
    c('credential_approval_id', 'uuid'),
    c('credential_ingress_id', 'text'),
    c('credential_released_at', 'timestamptz'),
  ],
  completed: [
    c('outcome', 'text'),
    c('status', 'integer'),
    c('forwarded', 'boolean'),
    c('bytes_in', 'bigint'),
    c('bytes_out', 'bigint'),
    c('upstream_ms', 'double precision'),
    c('total_ms', 'double precision'),
    c('credential_used_name', 'text'),
    c('credential_used_version', 'integer'),
    c('completed_approval_id', 'uuid'),
    c('redactions', 'integer'),
    c('completion_error', 'jsonb'),
    c('completed_at', 'timestamptz'),
    c('completed_event_id', 'uuid'),
  ],
  approvalLink: [c('approval_id', 'uuid')],
  released: [c('released_by_approval_id', 'uuid')],
};

/** Fixed group order, so a batch's statements (and their lock order) never depend on map order. */
export const actionGroups: readonly ActionGroup[] = ['requested', 'decided', 'credential', 'completed', 'approvalLink', 'released'];

export const credentialUseColumns: readonly ColumnSpec[] = [
  c('event_id', 'uuid'),
  c('action_id', 'uuid'),
  c('gateway_id', 'text'),
  c('agent_id', 'text'),
  c('run_id', 'uuid'),
  c('approval_id', 'uuid'),
  c('connector', 'text'),
  c('secret_id', 'uuid'),
  c('secret_name', 'text'),
  c('secret_version', 'integer'),
  c('injection_kind', 'text'),
  c('ingress_id', 'text'),
  c('released_at', 'timestamptz'),
];

export const agentTouchColumns: readonly ColumnSpec[] = [
  c('agent_id', 'text'),
  c('agent_name', 'text'),
  c('first_seen_at', 'timestamptz'),
  c('last_seen_at', 'timestamptz'),
  c('actions_total', 'bigint'),
];

export const runCounterColumns: readonly ColumnSpec[] = [
  c('run_id', 'uuid'),
  c('agent_id', 'text'),
  c('gateway_id', 'text'),
  c('first_action_at', 'timestamptz'),
  c('last_action_at', 'timestamptz'),
  c('actions_total', 'bigint'),
  c('decisions_allow', 'bigint'),
  c('decisions_deny', 'bigint'),
  c('decisions_require_approval', 'bigint'),
];

export const decisionCountColumns: readonly ColumnSpec[] = [c('bucket', 'timestamptz'), c('gateway_id', 'text'), c('decision', 'text'), c('count', 'bigint')];
