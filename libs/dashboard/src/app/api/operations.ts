/**
 * Every GraphQL operation the dashboard sends, and the shapes it reads back. The schema is the
 * audit API's (services/audit-api/src/graphql/type-defs.ts); enums arrive upper-case.
 */

export type Decision = 'ALLOW' | 'DENY' | 'REQUIRE_APPROVAL';
export type ApiRole = 'VIEWER' | 'APPROVER' | 'ADMIN';
export type ApprovalStatus = 'PENDING' | 'GRANTED' | 'DENIED' | 'EXPIRED' | 'CANCELLED' | 'CONSUMED';
export type ScopeKind = 'ALL' | 'GATEWAY' | 'AGENT' | 'CONNECTOR';

export interface PageInfo {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

export const VIEWER = /* GraphQL */ `query Viewer { viewer { name role } }`;
export interface ViewerData {
  viewer: { name: string; role: ApiRole };
}

const ACTION_SUMMARY = /* GraphQL */ `
  id gatewayId agentId agentName runId requestedAt type connector resource risk decision
  request { method url host }
  decided { reason matchedRules decidingRule policyVersion enforced }
  completion { outcome status upstreamMs totalMs }`;

export interface ActionSummary {
  id: string;
  gatewayId: string;
  agentId: string;
  agentName: string | null;
  runId: string;
  requestedAt: string | null;
  type: string | null;
  connector: string | null;
  resource: string | null;
  risk: string | null;
  decision: Decision | null;
  request: { method: string | null; url: string | null; host: string | null };
  decided: { reason: string; matchedRules: string[]; decidingRule: string | null; policyVersion: number | null; enforced: boolean } | null;
  completion: { outcome: string; status: number | null; upstreamMs: number | null; totalMs: number } | null;
}

export const ACTIONS = /* GraphQL */ `
query Actions($filter: ActionFilter, $first: Int, $after: String) {
  actions(filter: $filter, first: $first, after: $after) {
    nodes { ${ACTION_SUMMARY} }
    pageInfo { hasNextPage endCursor }
    totalCount totalCountCapped
  }
}`;
export interface ActionsData {
  actions: { nodes: ActionSummary[]; pageInfo: Pick<PageInfo, 'hasNextPage' | 'endCursor'>; totalCount: number; totalCountCapped: boolean };
}

export const DECISIONS_SUBSCRIPTION = /* GraphQL */ `
subscription Decisions($gatewayId: String, $agentId: String, $decision: [Decision!]) {
  decisions(gatewayId: $gatewayId, agentId: $agentId, decision: $decision) {
    eventId time actionId gatewayId agentId runId decision enforced reason matchedRules decidingRule policyVersion
    action { ${ACTION_SUMMARY} }
  }
}`;
export interface DecisionEventData {
  decisions: {
    eventId: string;
    time: string;
    actionId: string;
    gatewayId: string;
    agentId: string;
    runId: string;
    decision: Decision;
    enforced: boolean;
    reason: string;
    matchedRules: string[];
    decidingRule: string | null;
    policyVersion: number | null;
    action: ActionSummary | null;
  };
}

export const ACTION_DETAIL = /* GraphQL */ `
query ActionDetail($id: ID!) {
  action(id: $id) {
    id gatewayId agentId agentName runId requestedAt type connector resource params risk operationId classifierVersion classifierNotes
    request { method url scheme host port path query contentType contentLength bodyDigest bodyTruncated userAgent requestDigest ingressId }
    decision
    decided { decision enforced mode reason matchedRules decidingRule policyVersion policyHash decidedBy killSwitchId inputDigest evaluationMicros decidedAt }
    credential { secretName secretVersion connector injection approvalId ingressId releasedAt }
    completion { outcome status forwarded bytesIn bytesOut upstreamMs totalMs credentialSecretName credentialSecretVersion redactions completedAt }
    approval { id status quorum approvers deniedBy denyReason decidedAt votes { voter voterRole vote outcome votedAt } }
    run { id command hostname startedAt }
  }
}`;
export interface ActionDetail extends Omit<ActionSummary, 'request' | 'decided' | 'completion'> {
  params: unknown;
  operationId: string | null;
  classifierVersion: string | null;
  classifierNotes: string[] | null;
  request: {
    method: string | null;
    url: string | null;
    scheme: string | null;
    host: string | null;
    port: number | null;
    path: string | null;
    query: string | null;
    contentType: string | null;
    contentLength: number | null;
    bodyDigest: string | null;
    bodyTruncated: boolean | null;
    userAgent: string | null;
    requestDigest: string | null;
    ingressId: string | null;
  };
  decided: {
    decision: Decision;
    enforced: boolean;
    mode: string;
    reason: string;
    matchedRules: string[];
    decidingRule: string | null;
    policyVersion: number | null;
    policyHash: string | null;
    decidedBy: string;
    killSwitchId: string | null;
    inputDigest: string;
    evaluationMicros: number | null;
    decidedAt: string;
  } | null;
  credential: { secretName: string; secretVersion: number; connector: string; injection: string; approvalId: string | null; ingressId: string; releasedAt: string } | null;
  completion: {
    outcome: string;
    status: number | null;
    forwarded: boolean;
    bytesIn: number;
    bytesOut: number;
    upstreamMs: number | null;
    totalMs: number;
    credentialSecretName: string | null;
    credentialSecretVersion: number | null;
    redactions: number;
    completedAt: string;
  } | null;
  approval: {
    id: string;
    status: ApprovalStatus;
    quorum: number;
    approvers: string[];
    deniedBy: string | null;
    denyReason: string | null;
    decidedAt: string | null;
    votes: { voter: string; voterRole: ApiRole | null; vote: string | null; outcome: string; votedAt: string }[];
  } | null;
  run: { id: string; command: string | null; hostname: string | null; startedAt: string | null } | null;
}
export interface ActionDetailData {
  action: ActionDetail | null;
}

const APPROVAL_FIELDS = /* GraphQL */ `
  id actionId gatewayId agentId agentName runId status ruleId reason approverRoles quorum approvers
  request { method url actionType connector resource params bodyDigest requestDigest }
  votes { voter voterRole vote comment channel outcome refusalReason votedAt }
  requestedAt expiresAt timeLeftMs decidedAt deniedBy denyReason denyCause consumedAt`;

export interface ApprovalVote {
  voter: string;
  voterRole: ApiRole | null;
  vote: string | null;
  comment: string | null;
  channel: string;
  outcome: string;
  refusalReason: string | null;
  votedAt: string;
}
export interface Approval {
  id: string;
  actionId: string;
  gatewayId: string;
  agentId: string;
  agentName: string;
  runId: string;
  status: ApprovalStatus;
  ruleId: string | null;
  reason: string;
  approverRoles: ApiRole[];
  quorum: number;
  approvers: string[];
  request: { method: string; url: string; actionType: string; connector: string | null; resource: string | null; params: unknown; bodyDigest: string | null; requestDigest: string };
  votes: ApprovalVote[];
  requestedAt: string;
  expiresAt: string;
  timeLeftMs: number | null;
  decidedAt: string | null;
  deniedBy: string | null;
  denyReason: string | null;
  denyCause: string | null;
  consumedAt: string | null;
}

export const PENDING_APPROVALS = /* GraphQL */ `
query PendingApprovals { pendingApprovals(first: 100) { nodes { ${APPROVAL_FIELDS} } } }`;
export interface PendingApprovalsData {
  pendingApprovals: { nodes: Approval[] };
}

export const RECENT_APPROVALS = /* GraphQL */ `
query RecentApprovals($filter: ApprovalFilter) { approvals(filter: $filter, first: 20) { nodes { ${APPROVAL_FIELDS} } } }`;
export interface RecentApprovalsData {
  approvals: { nodes: Approval[] };
}

export const APPROVAL = /* GraphQL */ `query Approval($id: ID!) { approval(id: $id) { ${APPROVAL_FIELDS} } }`;
export interface ApprovalData {
  approval: Approval | null;
}

export const APPROVAL_EVENTS = /* GraphQL */ `
subscription ApprovalEvents { approvalEvents { eventId type time approvalId } }`;
export interface ApprovalEventData {
  approvalEvents: { eventId: string; type: string; time: string; approvalId: string };
}

export const VOTE_RESULT = 'approvalId status quorum approvals deniedBy reason expiresAt';
export const APPROVE = /* GraphQL */ `mutation Approve($id: ID!, $comment: String) { approve(approvalId: $id, comment: $comment) { ${VOTE_RESULT} } }`;
export const DENY = /* GraphQL */ `mutation Deny($id: ID!, $comment: String) { deny(approvalId: $id, comment: $comment) { ${VOTE_RESULT} } }`;
export interface VoteResult {
  approvalId: string;
  status: ApprovalStatus;
  quorum: number;
  approvals: string[];
  deniedBy: string | null;
  reason: string | null;
  expiresAt: string;
}

const KILL_CHANGE = /* GraphQL */ `
  eventId killSwitchId state scope { kind value key } reason actor changedAt
  acknowledgements { ingressId latencyMs cutConnections acknowledgedAt }`;
export interface KillSwitchChange {
  eventId: string;
  killSwitchId: string;
  state: 'ENGAGED' | 'RELEASED';
  scope: { kind: ScopeKind; value: string | null; key: string };
  reason: string | null;
  actor: string;
  changedAt: string;
  acknowledgements: { ingressId: string; latencyMs: number; cutConnections: number; acknowledgedAt: string }[];
}
export const KILL_SWITCHES = /* GraphQL */ `
query KillSwitches {
  activeKillSwitches { ${KILL_CHANGE} }
  killSwitchHistory(first: 20) { nodes { ${KILL_CHANGE} } }
  gateways { id name }
}`;
export interface KillSwitchesData {
  activeKillSwitches: KillSwitchChange[];
  killSwitchHistory: { nodes: KillSwitchChange[] };
  gateways: { id: string; name: string }[];
}
export const KILL_SWITCH_EVENTS = /* GraphQL */ `subscription KillSwitchEvents { killSwitchEvents { eventId type time killSwitchId } }`;
export interface KillSwitchEventData {
  killSwitchEvents: { eventId: string; type: string; time: string; killSwitchId: string };
}

const KILL_RESULT = 'killSwitchId state expected acknowledgements { ingressId latencyMs cutConnections } tookEffectMs';
export const ENGAGE = /* GraphQL */ `mutation Engage($scope: KillSwitchScopeInput!, $reason: String!) { engageKillSwitch(scope: $scope, reason: $reason) { ${KILL_RESULT} } }`;
export const RELEASE = /* GraphQL */ `mutation Release($scope: KillSwitchScopeInput!, $reason: String) { releaseKillSwitch(scope: $scope, reason: $reason) { ${KILL_RESULT} } }`;
export interface KillSwitchResult {
  killSwitchId: string;
  state: 'ENGAGED' | 'RELEASED';
  expected: number;
  acknowledgements: { ingressId: string; latencyMs: number; cutConnections: number }[];
  tookEffectMs: number | null;
}

export interface PolicyVersion {
  gatewayId: string;
  version: number;
  hash: string;
  source: string;
  ruleCount: number;
  publishedBy: string;
  publishedAt: string;
}
export const POLICIES = /* GraphQL */ `
query Policies($gatewayId: String) {
  gateways { id name mode activePolicyVersion }
  policyVersions(gatewayId: $gatewayId, first: 50) { nodes { gatewayId version hash source ruleCount publishedBy publishedAt } }
}`;
export interface PoliciesData {
  gateways: { id: string; name: string; mode: string; activePolicyVersion: number | null }[];
  policyVersions: { nodes: PolicyVersion[] };
}

export const BACKTEST = /* GraphQL */ `
query Backtest($source: String!, $since: DateTime!, $gatewayId: String) {
  policyBacktest(source: $source, since: $since, gatewayId: $gatewayId, maxChanges: 50) {
    candidateHash candidateRules total evaluated unchanged changed ruleChanged skippedNotPolicy skippedInvalid
    transitions { transition count }
    changes { actionId time agentId actionType resource before { decision rule } after { decision rule } afterReason }
    truncated limited periodFrom periodTo
  }
}`;
export interface BacktestReport {
  candidateHash: string;
  candidateRules: number;
  total: number;
  evaluated: number;
  unchanged: number;
  changed: number;
  ruleChanged: number;
  skippedNotPolicy: number;
  skippedInvalid: number;
  transitions: { transition: string; count: number }[];
  changes: {
    actionId: string;
    time: string;
    agentId: string;
    actionType: string;
    resource: string | null;
    before: { decision: Decision; rule: string | null };
    after: { decision: Decision; rule: string | null };
    afterReason: string;
  }[];
  truncated: boolean;
  limited: boolean;
  periodFrom: string | null;
  periodTo: string | null;
}
export interface BacktestData {
  policyBacktest: BacktestReport;
}

export interface RunRow {
  id: string;
  agentId: string;
  agentName: string | null;
  gatewayId: string;
  command: string | null;
  hostname: string | null;
  startedBy: string | null;
  startedAt: string | null;
  endedAt: string | null;
  exitCode: number | null;
  signal: string | null;
  durationMs: number | null;
  firstActionAt: string | null;
  actionCount: number;
  decisions: { allow: number; deny: number; requireApproval: number };
}
export const AGENTS_AND_RUNS = /* GraphQL */ `
query AgentsAndRuns($filter: RunFilter, $since: DateTime!, $until: DateTime!, $bucket: BucketWidth!) {
  agents(first: 50) { nodes { id name firstSeenAt lastSeenAt runCount actionCount } }
  runs(filter: $filter, first: 50) {
    nodes { id agentId agentName gatewayId command hostname startedBy startedAt endedAt exitCode signal durationMs firstActionAt actionCount decisions { allow deny requireApproval } }
  }
  decisionsOverTime(since: $since, until: $until, bucket: $bucket) { start allow deny requireApproval }
}`;
export interface AgentsAndRunsData {
  agents: { nodes: { id: string; name: string | null; firstSeenAt: string; lastSeenAt: string; runCount: number; actionCount: number }[] };
  runs: { nodes: RunRow[] };
  decisionsOverTime: DecisionBucket[];
}
export interface DecisionBucket {
  start: string;
  allow: number;
  deny: number;
  requireApproval: number;
}
