import { sql, type Kysely } from 'kysely';

/**
 * The read models. Every column is written from event data only (never now()), so a replay
 * rebuilds the same rows byte for byte. Action rows may be created by any of the action's
 * events (they arrive in any order across streams); `requested_at` is set by ActionRequested
 * and only rows that have it are listed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
CREATE TABLE actions (
  action_id uuid PRIMARY KEY,
  gateway_id text NOT NULL,
  agent_id text NOT NULL,
  run_id uuid NOT NULL,
  agent_name text,
  ingress_id text,
  connection_id text,
  method text,
  scheme text,
  host text,
  port integer,
  path text,
  query text,
  url text,
  content_type text,
  content_length bigint,
  body_digest text,
  body_truncated boolean,
  user_agent text,
  action_type text,
  action_parent text,
  action_verb text,
  connector text,
  resource text,
  params jsonb,
  risk text,
  operation_id text,
  classifier_notes text[],
  classifier_version text,
  request_digest text,
  requested_at timestamptz,
  requested_event_id uuid,
  decision text,
  enforced boolean,
  mode text,
  reason text,
  matched_rules text[],
  deciding_rule text,
  policy_version integer,
  policy_hash text,
  decided_by text,
  kill_switch_id uuid,
  input_digest text,
  approval_requirement jsonb,
  decision_error jsonb,
  evaluation_micros double precision,
  session_values jsonb,
  decided_at timestamptz,
  decided_event_id uuid,
  credential_secret_id uuid,
  credential_secret_name text,
  credential_secret_version integer,
  credential_connector text,
  credential_injection text,
  credential_approval_id uuid,
  credential_ingress_id text,
  credential_released_at timestamptz,
  outcome text,
  status integer,
  forwarded boolean,
  bytes_in bigint,
  bytes_out bigint,
  upstream_ms double precision,
  total_ms double precision,
  credential_used_name text,
  credential_used_version integer,
  completed_approval_id uuid,
  redactions integer,
  completion_error jsonb,
  completed_at timestamptz,
  completed_event_id uuid,
  approval_id uuid,
  released_by_approval_id uuid
);
-- Keyset pagination, newest first, one index per common filter so a filtered page is an index range scan.
CREATE INDEX actions_page ON actions (requested_at, action_id) WHERE requested_at IS NOT NULL;
CREATE INDEX actions_agent_page ON actions (agent_id, requested_at, action_id) WHERE requested_at IS NOT NULL;
CREATE INDEX actions_run_page ON actions (run_id, requested_at, action_id) WHERE requested_at IS NOT NULL;
CREATE INDEX actions_gateway_page ON actions (gateway_id, requested_at, action_id) WHERE requested_at IS NOT NULL;
CREATE INDEX actions_connector_page ON actions (connector, requested_at, action_id) WHERE requested_at IS NOT NULL;
CREATE INDEX actions_decision_page ON actions (decision, requested_at, action_id) WHERE requested_at IS NOT NULL;
CREATE INDEX actions_type_page ON actions (action_type text_pattern_ops, requested_at, action_id) WHERE requested_at IS NOT NULL;
-- The common globs, as equalities the planner can walk in time order: github.repo.* (parent) and **.delete (verb).
CREATE INDEX actions_parent_page ON actions (action_parent, requested_at, action_id) WHERE requested_at IS NOT NULL;
CREATE INDEX actions_verb_page ON actions (action_verb, requested_at, action_id) WHERE requested_at IS NOT NULL;
CREATE INDEX actions_resource_page ON actions (resource text_pattern_ops, requested_at, action_id) WHERE requested_at IS NOT NULL AND resource IS NOT NULL;
CREATE INDEX actions_approval ON actions (approval_id) WHERE approval_id IS NOT NULL;

CREATE TABLE approvals (
  approval_id uuid PRIMARY KEY,
  action_id uuid NOT NULL,
  gateway_id text NOT NULL,
  agent_id text NOT NULL,
  agent_name text NOT NULL,
  run_id uuid NOT NULL,
  request_digest text NOT NULL,
  method text NOT NULL,
  url text NOT NULL,
  action jsonb NOT NULL,
  action_type text NOT NULL,
  body_digest text,
  rule_id text,
  reason text NOT NULL,
  approver_roles text[] NOT NULL,
  quorum integer NOT NULL,
  timeout_ms bigint NOT NULL,
  expires_at timestamptz NOT NULL,
  requested_at timestamptz NOT NULL,
  status text NOT NULL,
  decided_at timestamptz,
  approvers text[] NOT NULL,
  denied_by text,
  deny_reason text,
  deny_cause text,
  kill_switch_id uuid,
  expired_at timestamptz,
  cancel_reason text,
  consumed_at timestamptz,
  released_action_id uuid,
  consumed_by_ingress text,
  updated_at timestamptz NOT NULL
);
CREATE INDEX approvals_page ON approvals (requested_at, approval_id);
CREATE INDEX approvals_status_page ON approvals (status, requested_at, approval_id);
CREATE INDEX approvals_gateway_page ON approvals (gateway_id, requested_at, approval_id);

CREATE TABLE approval_votes (
  event_id uuid PRIMARY KEY,
  approval_id uuid NOT NULL,
  voter text NOT NULL,
  voter_role text,
  vote text,
  comment text,
  channel text NOT NULL,
  outcome text NOT NULL,
  refusal_reason text,
  voted_at timestamptz NOT NULL
);
CREATE INDEX approval_votes_by_approval ON approval_votes (approval_id, voted_at, event_id);

CREATE TABLE agents (
  agent_id text PRIMARY KEY,
  agent_name text,
  last_gateway_id text,
  first_seen_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  runs_total integer NOT NULL DEFAULT 0,
  actions_total bigint NOT NULL DEFAULT 0
);
CREATE INDEX agents_page ON agents (last_seen_at, agent_id);

CREATE TABLE agent_runs (
  run_id uuid PRIMARY KEY,
  agent_id text NOT NULL,
  gateway_id text NOT NULL,
  agent_name text,
  command text,
  hostname text,
  pid integer,
  started_by text,
  started_at timestamptz,
  ended_at timestamptz,
  exit_code integer,
  signal text,
  duration_ms double precision,
  first_action_at timestamptz,
  last_action_at timestamptz,
  actions_total bigint NOT NULL DEFAULT 0,
  decisions_allow bigint NOT NULL DEFAULT 0,
  decisions_deny bigint NOT NULL DEFAULT 0,
  decisions_require_approval bigint NOT NULL DEFAULT 0
);
CREATE INDEX agent_runs_page ON agent_runs ((coalesce(started_at, first_action_at)), run_id);
CREATE INDEX agent_runs_agent_page ON agent_runs (agent_id, (coalesce(started_at, first_action_at)), run_id);

CREATE TABLE gateways (
  gateway_id text PRIMARY KEY,
  name text NOT NULL,
  mode text NOT NULL,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL,
  mode_changed_by text,
  mode_changed_at timestamptz
);

CREATE TABLE connectors (
  gateway_id text NOT NULL,
  connector_id text NOT NULL,
  kind text NOT NULL,
  secret_name text,
  injection jsonb,
  domains text[] NOT NULL,
  options jsonb NOT NULL,
  configured_by text NOT NULL,
  configured_at timestamptz NOT NULL,
  removed_by text,
  removed_at timestamptz,
  PRIMARY KEY (gateway_id, connector_id)
);

CREATE TABLE policy_versions (
  gateway_id text NOT NULL,
  version integer NOT NULL,
  hash text NOT NULL,
  source text NOT NULL,
  rule_count integer NOT NULL,
  published_by text NOT NULL,
  published_at timestamptz NOT NULL,
  event_id uuid NOT NULL,
  PRIMARY KEY (gateway_id, version)
);
CREATE INDEX policy_versions_page ON policy_versions (published_at, gateway_id, version);

CREATE TABLE kill_switch_changes (
  event_id uuid PRIMARY KEY,
  kill_switch_id uuid NOT NULL,
  state text NOT NULL,
  scope_kind text NOT NULL,
  scope_value text,
  scope_key text NOT NULL,
  reason text,
  actor text NOT NULL,
  changed_at timestamptz NOT NULL
);
CREATE INDEX kill_switch_changes_page ON kill_switch_changes (changed_at, event_id);
CREATE INDEX kill_switch_changes_scope ON kill_switch_changes (scope_key, changed_at, event_id);

CREATE TABLE kill_switch_acks (
  kill_switch_id uuid NOT NULL,
  state text NOT NULL,
  ingress_id text NOT NULL,
  latency_ms double precision NOT NULL,
  cut_connections integer NOT NULL,
  acknowledged_at timestamptz NOT NULL,
  event_id uuid NOT NULL,
  PRIMARY KEY (kill_switch_id, state, ingress_id)
);

CREATE TABLE credential_uses (
  event_id uuid PRIMARY KEY,
  action_id uuid NOT NULL,
  gateway_id text NOT NULL,
  agent_id text NOT NULL,
  run_id uuid NOT NULL,
  approval_id uuid,
  connector text NOT NULL,
  secret_id uuid NOT NULL,
  secret_name text NOT NULL,
  secret_version integer NOT NULL,
  injection_kind text NOT NULL,
  ingress_id text NOT NULL,
  released_at timestamptz NOT NULL
);
CREATE INDEX credential_uses_page ON credential_uses (released_at, event_id);
CREATE INDEX credential_uses_secret_page ON credential_uses (secret_name, released_at, event_id);
CREATE INDEX credential_uses_action ON credential_uses (action_id);

CREATE TABLE secrets (
  gateway_id text NOT NULL,
  name text NOT NULL,
  secret_id uuid NOT NULL,
  version integer NOT NULL,
  byte_length integer NOT NULL,
  source text NOT NULL,
  master_key_id text NOT NULL,
  stored_by text NOT NULL,
  stored_at timestamptz NOT NULL,
  rotated_by text,
  rotated_at timestamptz,
  revoked_by text,
  revoked_at timestamptz,
  PRIMARY KEY (gateway_id, name)
);

CREATE TABLE api_tokens (
  token_id uuid PRIMARY KEY,
  name text NOT NULL,
  role text NOT NULL,
  issued_by text NOT NULL,
  issued_at timestamptz NOT NULL,
  revoked_by text,
  revoked_at timestamptz
);

-- Decisions per minute, for the decisions-over-time chart (additive, so batch boundaries do not matter).
CREATE TABLE decision_counts (
  bucket timestamptz NOT NULL,
  gateway_id text NOT NULL,
  decision text NOT NULL,
  count bigint NOT NULL,
  PRIMARY KEY (bucket, gateway_id, decision)
);
`.execute(db);
}
