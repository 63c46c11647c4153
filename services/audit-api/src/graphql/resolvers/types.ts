import { GraphQLError, GraphQLScalarType, Kind } from '../graphql-runtime.ts';
import {
  listActions,
  listRuns,
  type ActionRow,
  type AgentRow,
  type ApprovalRow,
  type ApprovalVoteRow,
  type CredentialUseRow,
  type KillSwitchChangeRow,
  type Page,
  type PageArgs,
  type RunRow,
} from '@tameflare/audit';
import type { AuditContext } from '../context.ts';

type R<P> = { [field: string]: (parent: P, args: any, ctx: AuditContext) => unknown };

/** A Relay connection from a page of rows (`filter` kept for `totalCount`). */
export function connection<T>(page: Page<T>, extra: Record<string, unknown> = {}) {
  return {
    edges: page.rows.map((node, i) => ({ cursor: page.cursors[i]!, node })),
    nodes: page.rows,
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: page.hasPreviousPage,
      startCursor: page.cursors[0] ?? null,
      endCursor: page.cursors.at(-1) ?? null,
    },
    ...extra,
  };
}

export function pageArgs(a: PageArgs): PageArgs {
  return { first: a.first, after: a.after, last: a.last, before: a.before };
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
function parseDateTime(v: unknown): string {
  if (typeof v !== 'string' || !ISO.test(v) || Number.isNaN(Date.parse(v))) {
    throw new GraphQLError(`DateTime must be an ISO 8601 date-time such as 2026-05-01T12:00:00Z, got ${JSON.stringify(String(v).slice(0, 40))}`, {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  }
  return v;
}

export const scalars = {
  DateTime: new GraphQLScalarType({
    name: 'DateTime',
    serialize: (v) => (v instanceof Date ? v.toISOString() : String(v)),
    parseValue: parseDateTime,
    parseLiteral: (ast) => parseDateTime(ast.kind === Kind.STRING ? ast.value : undefined),
  }),
  JSON: new GraphQLScalarType({
    name: 'JSON',
    serialize: (v) => v,
    parseValue: (v) => v,
    parseLiteral: () => {
      throw new GraphQLError('JSON values are output only', { extensions: { code: 'BAD_USER_INPUT' } });
    },
  }),
};

/** GraphQL enum names mapped to the values events and read models use. */
export const enums = {
  Role: { VIEWER: 'viewer', APPROVER: 'approver', ADMIN: 'admin' },
  Decision: { ALLOW: 'allow', DENY: 'deny', REQUIRE_APPROVAL: 'require_approval' },
  Outcome: {
    COMPLETED: 'completed',
    UPSTREAM_ERROR: 'upstream_error',
    CLIENT_ABORTED: 'client_aborted',
    KILLED: 'killed',
    DENIED: 'denied',
    APPROVAL_DENIED: 'approval_denied',
    APPROVAL_EXPIRED: 'approval_expired',
    UNAVAILABLE: 'unavailable',
  },
  Risk: { READ: 'read', WRITE: 'write', DESTRUCTIVE: 'destructive' },
  ApprovalStatus: { PENDING: 'pending', GRANTED: 'granted', DENIED: 'denied', EXPIRED: 'expired', CANCELLED: 'cancelled', CONSUMED: 'consumed' },
  KillSwitchScopeKind: { ALL: 'all', GATEWAY: 'gateway', AGENT: 'agent', CONNECTOR: 'connector' },
  KillSwitchState: { ENGAGED: 'engaged', RELEASED: 'released' },
  BucketWidth: { MINUTE: 'minute', FIVE_MINUTES: 'five_minutes', FIFTEEN_MINUTES: 'fifteen_minutes', HOUR: 'hour', DAY: 'day' },
  ApprovalEventType: {
    REQUESTED: 'ApprovalRequested',
    VOTE_RECORDED: 'ApprovalVoteRecorded',
    VOTE_REFUSED: 'ApprovalVoteRefused',
    GRANTED: 'ApprovalGranted',
    DENIED: 'ApprovalDenied',
    EXPIRED: 'ApprovalExpired',
    CANCELLED: 'ApprovalCancelled',
    CONSUMED: 'ApprovalConsumed',
  },
  KillSwitchEventType: { ENGAGED: 'KillSwitchEngaged', RELEASED: 'KillSwitchReleased', ACKNOWLEDGED: 'KillSwitchAcknowledged' },
};

const num = (v: string | number | null) => (v === null ? null : Number(v));

const Action: R<ActionRow> = {
  id: (r) => r.action_id,
  gatewayId: (r) => r.gateway_id,
  agentId: (r) => r.agent_id,
  agentName: (r) => r.agent_name,
  runId: (r) => r.run_id,
  run: (r, _a, ctx) => ctx.loaders.run.load(r.run_id),
  requestedAt: (r) => r.requested_at,
  type: (r) => r.action_type,
  connector: (r) => r.connector,
  resource: (r) => r.resource,
  params: (r) => r.params,
  risk: (r) => r.risk,
  operationId: (r) => r.operation_id,
  classifierVersion: (r) => r.classifier_version,
  classifierNotes: (r) => r.classifier_notes,
  request: (r) => r,
  decision: (r) => r.decision,
  decided: (r) => (r.decided_event_id ? r : null),
  credential: (r) => (r.credential_secret_id ? r : null),
  completion: (r) => (r.completed_event_id ? r : null),
  approval: (r, _a, ctx) => {
    const id = r.approval_id ?? r.completed_approval_id ?? r.credential_approval_id;
    return id ? ctx.loaders.approval.load(id) : null;
  },
  releasedByApproval: (r, _a, ctx) => (r.released_by_approval_id ? ctx.loaders.approval.load(r.released_by_approval_id) : null),
};

const ActionRequest: R<ActionRow> = {
  method: (r) => r.method,
  url: (r) => r.url,
  scheme: (r) => r.scheme,
  host: (r) => r.host,
  port: (r) => r.port,
  path: (r) => r.path,
  query: (r) => r.query,
  contentType: (r) => r.content_type,
  contentLength: (r) => num(r.content_length),
  bodyDigest: (r) => r.body_digest,
  bodyTruncated: (r) => r.body_truncated,
  userAgent: (r) => r.user_agent,
  requestDigest: (r) => r.request_digest,
  ingressId: (r) => r.ingress_id,
  connectionId: (r) => r.connection_id,
};

const ActionDecision: R<ActionRow> = {
  decision: (r) => r.decision,
  enforced: (r) => r.enforced,
  mode: (r) => r.mode,
  reason: (r) => r.reason,
  matchedRules: (r) => r.matched_rules ?? [],
  decidingRule: (r) => r.deciding_rule,
  policyVersion: (r) => r.policy_version,
  policyHash: (r) => r.policy_hash,
  policy: (r, _a, ctx) => (r.policy_version === null ? null : ctx.loaders.policy.load(`${r.gateway_id}@${r.policy_version}`)),
  decidedBy: (r) => r.decided_by,
  killSwitchId: (r) => r.kill_switch_id,
  inputDigest: (r) => r.input_digest,
  approvalRequirement: (r) => r.approval_requirement,
  error: (r) => r.decision_error,
  evaluationMicros: (r) => r.evaluation_micros,
  sessionValues: (r) => r.session_values,
  decidedAt: (r) => r.decided_at,
};

const ActionCredential: R<ActionRow> = {
  secretId: (r) => r.credential_secret_id,
  secretName: (r) => r.credential_secret_name,
  secretVersion: (r) => r.credential_secret_version,
  connector: (r) => r.credential_connector,
  injection: (r) => r.credential_injection,
  approvalId: (r) => r.credential_approval_id,
  ingressId: (r) => r.credential_ingress_id,
  releasedAt: (r) => r.credential_released_at,
};

const ActionCompletion: R<ActionRow> = {
  outcome: (r) => r.outcome,
  status: (r) => r.status,
  forwarded: (r) => r.forwarded,
  bytesIn: (r) => num(r.bytes_in),
  bytesOut: (r) => num(r.bytes_out),
  upstreamMs: (r) => r.upstream_ms,
  totalMs: (r) => r.total_ms,
  credentialSecretName: (r) => r.credential_used_name,
  credentialSecretVersion: (r) => r.credential_used_version,
  approvalId: (r) => r.completed_approval_id,
  redactions: (r) => r.redactions,
  error: (r) => r.completion_error,
  completedAt: (r) => r.completed_at,
};

const ActionConnection = {
  totalCount: async (c: { totalCount?: () => Promise<{ count: number }> }) => (await c.totalCount!()).count,
  totalCountCapped: async (c: { totalCount?: () => Promise<{ capped: boolean }> }) => (await c.totalCount!()).capped,
};

const Approval: R<ApprovalRow> = {
  id: (r) => r.approval_id,
  actionId: (r) => r.action_id,
  action: (r, _a, ctx) => ctx.loaders.action.load(r.action_id),
  gatewayId: (r) => r.gateway_id,
  agentId: (r) => r.agent_id,
  agentName: (r) => r.agent_name,
  runId: (r) => r.run_id,
  status: (r) => r.status,
  request: (r) => r,
  ruleId: (r) => r.rule_id,
  reason: (r) => r.reason,
  approverRoles: (r) => r.approver_roles,
  quorum: (r) => r.quorum,
  approvers: (r) => r.approvers,
  votes: (r, _a, ctx) => ctx.loaders.votes.load(r.approval_id),
  requestedAt: (r) => r.requested_at,
  expiresAt: (r) => r.expires_at,
  timeLeftMs: (r) => (r.status === 'pending' ? Math.max(0, Date.parse(r.expires_at) - Date.now()) : null),
  decidedAt: (r) => r.decided_at,
  deniedBy: (r) => r.denied_by,
  denyReason: (r) => r.deny_reason,
  denyCause: (r) => r.deny_cause,
  consumedAt: (r) => r.consumed_at,
  releasedActionId: (r) => r.released_action_id,
};

const actionOf = (r: ApprovalRow) => (r.action ?? {}) as { connector?: string; resource?: string | null; params?: unknown };
const ApprovalRequestDetail: R<ApprovalRow> = {
  method: (r) => r.method,
  url: (r) => r.url,
  actionType: (r) => r.action_type,
  connector: (r) => actionOf(r).connector ?? null,
  resource: (r) => actionOf(r).resource ?? null,
  params: (r) => actionOf(r).params ?? null,
  bodyDigest: (r) => r.body_digest,
  requestDigest: (r) => r.request_digest,
};

const ApprovalVote: R<ApprovalVoteRow> = {
  voter: (r) => r.voter,
  voterRole: (r) => r.voter_role,
  vote: (r) => r.vote,
  comment: (r) => r.comment,
  channel: (r) => r.channel,
  outcome: (r) => r.outcome.toUpperCase(),
  refusalReason: (r) => r.refusal_reason,
  votedAt: (r) => r.voted_at,
};

const Run: R<RunRow> = {
  id: (r) => r.run_id,
  agentId: (r) => r.agent_id,
  agentName: (r) => r.agent_name,
  gatewayId: (r) => r.gateway_id,
  command: (r) => r.command,
  hostname: (r) => r.hostname,
  pid: (r) => r.pid,
  startedBy: (r) => r.started_by,
  startedAt: (r) => r.started_at,
  endedAt: (r) => r.ended_at,
  exitCode: (r) => r.exit_code,
  signal: (r) => r.signal,
  durationMs: (r) => r.duration_ms,
  firstActionAt: (r) => r.first_action_at,
  lastActionAt: (r) => r.last_action_at,
  actionCount: (r) => Number(r.actions_total),
  decisions: (r) => ({ allow: Number(r.decisions_allow), deny: Number(r.decisions_deny), requireApproval: Number(r.decisions_require_approval) }),
  actions: async (r, args, ctx) => {
    const filter = { ...(args.filter ?? {}), runId: r.run_id };
    return connection(await listActions(ctx.db, filter, pageArgs(args)));
  },
};

const Agent: R<AgentRow> = {
  id: (r) => r.agent_id,
  name: (r) => r.agent_name,
  firstSeenAt: (r) => r.first_seen_at,
  lastSeenAt: (r) => r.last_seen_at,
  runCount: (r) => r.runs_total,
  actionCount: (r) => Number(r.actions_total),
  runs: async (r, args, ctx) => connection(await listRuns(ctx.db, { agentId: r.agent_id }, pageArgs(args))),
};

const KillSwitchChange: R<KillSwitchChangeRow> = {
  eventId: (r) => r.event_id,
  killSwitchId: (r) => r.kill_switch_id,
  state: (r) => r.state,
  scope: (r) => ({ kind: r.scope_kind, value: r.scope_value, key: r.scope_key }),
  reason: (r) => r.reason,
  actor: (r) => r.actor,
  changedAt: (r) => r.changed_at,
  acknowledgements: async (r, _a, ctx) =>
    (await ctx.loaders.acks.load(`${r.kill_switch_id}|${r.state}`)).map((a) => ({
      ingressId: a.ingress_id,
      latencyMs: a.latency_ms,
      cutConnections: a.cut_connections,
      acknowledgedAt: a.acknowledged_at,
    })),
};

const CredentialUse: R<CredentialUseRow> = {
  eventId: (r) => r.event_id,
  actionId: (r) => r.action_id,
  action: (r, _a, ctx) => ctx.loaders.action.load(r.action_id),
  gatewayId: (r) => r.gateway_id,
  agentId: (r) => r.agent_id,
  runId: (r) => r.run_id,
  approvalId: (r) => r.approval_id,
  connector: (r) => r.connector,
  secretId: (r) => r.secret_id,
  secretName: (r) => r.secret_name,
  secretVersion: (r) => r.secret_version,
  injection: (r) => r.injection_kind,
  ingressId: (r) => r.ingress_id,
  releasedAt: (r) => r.released_at,
};

const snake = <T extends Record<string, unknown>>(map: Record<string, keyof T>): R<T> =>
  Object.fromEntries(Object.entries(map).map(([field, column]) => [field, (r: T) => r[column]]));

export const typeResolvers = {
  ...scalars,
  ...enums,
  Action,
  ActionRequest,
  ActionDecision,
  ActionCredential,
  ActionCompletion,
  ActionConnection,
  Approval,
  ApprovalRequestDetail,
  ApprovalVote,
  Run,
  Agent,
  KillSwitchChange,
  CredentialUse,
  Gateway: snake<Record<string, unknown>>({
    id: 'gateway_id',
    name: 'name',
    mode: 'mode',
    createdBy: 'created_by',
    createdAt: 'created_at',
    modeChangedBy: 'mode_changed_by',
    modeChangedAt: 'mode_changed_at',
    activePolicyVersion: 'policy_version',
  }),
  Connector: snake<Record<string, unknown>>({
    gatewayId: 'gateway_id',
    id: 'connector_id',
    kind: 'kind',
    secretName: 'secret_name',
    injection: 'injection',
    domains: 'domains',
    options: 'options',
    configuredBy: 'configured_by',
    configuredAt: 'configured_at',
    removedAt: 'removed_at',
    removedBy: 'removed_by',
  }),
  PolicyVersion: snake<Record<string, unknown>>({
    gatewayId: 'gateway_id',
    version: 'version',
    hash: 'hash',
    source: 'source',
    ruleCount: 'rule_count',
    publishedBy: 'published_by',
    publishedAt: 'published_at',
  }),
  Secret: snake<Record<string, unknown>>({
    gatewayId: 'gateway_id',
    name: 'name',
    secretId: 'secret_id',
    version: 'version',
    byteLength: 'byte_length',
    source: 'source',
    storedBy: 'stored_by',
    storedAt: 'stored_at',
    rotatedAt: 'rotated_at',
    revokedAt: 'revoked_at',
  }),
  ApiToken: snake<Record<string, unknown>>({
    id: 'token_id',
    name: 'name',
    role: 'role',
    issuedBy: 'issued_by',
    issuedAt: 'issued_at',
    revokedAt: 'revoked_at',
    revokedBy: 'revoked_by',
  }),
};
