/**
 * The audit API's schema. Lists are Relay connections, newest first, paginated by opaque cursors
 * (`first`/`after` or `last`/`before`, at most 500 per page). Every field needs an API token; the
 * role each root field needs is in `fieldRoles` (auth/roles.ts).
 */
export const typeDefs = /* GraphQL */ `
"""An ISO 8601 date-time in UTC, e.g. 2026-05-01T12:00:00.123Z."""
scalar DateTime
"""Any JSON value."""
scalar JSON

enum Role { VIEWER APPROVER ADMIN }
enum Decision { ALLOW DENY REQUIRE_APPROVAL }
enum Outcome { COMPLETED UPSTREAM_ERROR CLIENT_ABORTED KILLED DENIED APPROVAL_DENIED APPROVAL_EXPIRED UNAVAILABLE }
enum Risk { READ WRITE DESTRUCTIVE }
enum ApprovalStatus { PENDING GRANTED DENIED EXPIRED CANCELLED CONSUMED }
enum KillSwitchScopeKind { ALL GATEWAY AGENT CONNECTOR }
enum KillSwitchState { ENGAGED RELEASED }
enum BucketWidth { MINUTE FIVE_MINUTES FIFTEEN_MINUTES HOUR DAY }
enum ApprovalEventType { REQUESTED VOTE_RECORDED VOTE_REFUSED GRANTED DENIED EXPIRED CANCELLED CONSUMED }
enum KillSwitchEventType { ENGAGED RELEASED ACKNOWLEDGED }

type PageInfo {
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  startCursor: String
  endCursor: String
}

type Viewer {
  name: String!
  role: Role!
}

"""Filters of the actions list; every field given narrows the list."""
input ActionFilter {
  agentId: String
  runId: ID
  gatewayId: String
  connector: String
  """Glob over action types: github.repo.* (one segment), stripe.** (any depth), *.delete."""
  actionType: String
  decision: [Decision!]
  outcome: [Outcome!]
  risk: [Risk!]
  """Request time at or after."""
  since: DateTime
  """Request time before."""
  until: DateTime
  """Glob over resources: acme/* or acme/**."""
  resource: String
  """Name of the secret injected."""
  secretName: String
}

"""What the agent sent (never a header value but a safe few, never the body)."""
type ActionRequest {
  method: String
  url: String
  scheme: String
  host: String
  port: Int
  path: String
  query: String
  contentType: String
  contentLength: Float
  bodyDigest: String
  bodyTruncated: Boolean
  userAgent: String
  requestDigest: String
  ingressId: String
  connectionId: String
}

"""How policy decided, with what it needs to recompute the decision."""
type ActionDecision {
  decision: Decision!
  enforced: Boolean!
  mode: String!
  reason: String!
  matchedRules: [String!]!
  decidingRule: String
  policyVersion: Int
  policyHash: String
  """The published policy that decided (with its YAML source)."""
  policy: PolicyVersion
  decidedBy: String!
  killSwitchId: ID
  inputDigest: String!
  approvalRequirement: JSON
  error: JSON
  evaluationMicros: Float
  sessionValues: JSON
  decidedAt: DateTime!
}

"""A credential released to the ingress for this action (metadata only)."""
type ActionCredential {
  secretId: ID!
  secretName: String!
  secretVersion: Int!
  connector: String!
  injection: String!
  approvalId: ID
  ingressId: String!
  releasedAt: DateTime!
}

type ActionCompletion {
  outcome: Outcome!
  status: Int
  forwarded: Boolean!
  bytesIn: Float!
  bytesOut: Float!
  upstreamMs: Float
  totalMs: Float!
  credentialSecretName: String
  credentialSecretVersion: Int
  approvalId: ID
  redactions: Int!
  error: JSON
  completedAt: DateTime!
}

"""One request an agent made through a gateway, from request to completion."""
type Action {
  id: ID!
  gatewayId: String!
  agentId: String!
  agentName: String
  runId: ID!
  run: Run
  requestedAt: DateTime
  type: String
  connector: String
  resource: String
  params: JSON
  risk: Risk
  operationId: String
  classifierVersion: String
  classifierNotes: [String!]
  request: ActionRequest!
  """Null until the decision is recorded."""
  decision: Decision
  decided: ActionDecision
  credential: ActionCredential
  completion: ActionCompletion
  approval: Approval
  releasedByApproval: Approval
}

type ActionEdge { cursor: String! node: Action! }
type ActionConnection {
  edges: [ActionEdge!]!
  nodes: [Action!]!
  pageInfo: PageInfo!
  """Matching actions, counted up to 10,000 (see totalCountCapped)."""
  totalCount: Int!
  totalCountCapped: Boolean!
}

input ApprovalFilter {
  status: [ApprovalStatus!]
  gatewayId: String
  agentId: String
  runId: ID
  since: DateTime
  until: DateTime
}

type ApprovalVote {
  voter: String!
  voterRole: Role
  vote: String
  comment: String
  channel: String!
  """RECORDED or REFUSED."""
  outcome: String!
  refusalReason: String
  votedAt: DateTime!
}

"""The exact request an approver is asked about; only a request with this digest can be released."""
type ApprovalRequestDetail {
  method: String!
  url: String!
  actionType: String!
  connector: String
  resource: String
  params: JSON
  bodyDigest: String
  requestDigest: String!
}

type Approval {
  id: ID!
  actionId: ID!
  action: Action
  gatewayId: String!
  agentId: String!
  agentName: String!
  runId: ID!
  status: ApprovalStatus!
  request: ApprovalRequestDetail!
  ruleId: String
  reason: String!
  approverRoles: [Role!]!
  quorum: Int!
  approvers: [String!]!
  votes: [ApprovalVote!]!
  requestedAt: DateTime!
  expiresAt: DateTime!
  """Milliseconds until expiry (0 once expired); null once decided."""
  timeLeftMs: Float
  decidedAt: DateTime
  deniedBy: String
  denyReason: String
  denyCause: String
  consumedAt: DateTime
  releasedActionId: ID
}
type ApprovalEdge { cursor: String! node: Approval! }
type ApprovalConnection { edges: [ApprovalEdge!]! nodes: [Approval!]! pageInfo: PageInfo! }

input RunFilter {
  agentId: String
  gatewayId: String
  """true: runs still going; false: ended runs."""
  active: Boolean
  since: DateTime
  until: DateTime
}

type DecisionCounts { allow: Float! deny: Float! requireApproval: Float! }

type Run {
  id: ID!
  agentId: String!
  agentName: String
  gatewayId: String!
  command: String
  hostname: String
  pid: Int
  startedBy: String
  startedAt: DateTime
  endedAt: DateTime
  exitCode: Int
  signal: String
  durationMs: Float
  firstActionAt: DateTime
  lastActionAt: DateTime
  actionCount: Float!
  decisions: DecisionCounts!
  actions(filter: ActionFilter, first: Int, after: String, last: Int, before: String): ActionConnection!
}
type RunEdge { cursor: String! node: Run! }
type RunConnection { edges: [RunEdge!]! nodes: [Run!]! pageInfo: PageInfo! }

type Agent {
  id: ID!
  name: String
  firstSeenAt: DateTime!
  lastSeenAt: DateTime!
  runCount: Int!
  actionCount: Float!
  runs(first: Int, after: String, last: Int, before: String): RunConnection!
}
type AgentEdge { cursor: String! node: Agent! }
type AgentConnection { edges: [AgentEdge!]! nodes: [Agent!]! pageInfo: PageInfo! }

type Gateway {
  id: ID!
  name: String!
  mode: String!
  createdBy: String!
  createdAt: DateTime!
  modeChangedBy: String
  modeChangedAt: DateTime
  activePolicyVersion: Int
}

type Connector {
  gatewayId: String!
  id: ID!
  kind: String!
  secretName: String
  injection: JSON
  domains: [String!]!
  options: JSON!
  configuredBy: String!
  configuredAt: DateTime!
  removedAt: DateTime
  removedBy: String
}

type PolicyVersion {
  gatewayId: String!
  version: Int!
  hash: String!
  """The YAML source exactly as applied (diff two versions to see what changed)."""
  source: String!
  ruleCount: Int!
  publishedBy: String!
  publishedAt: DateTime!
}
type PolicyVersionEdge { cursor: String! node: PolicyVersion! }
type PolicyVersionConnection { edges: [PolicyVersionEdge!]! nodes: [PolicyVersion!]! pageInfo: PageInfo! }

type KillSwitchScope { kind: KillSwitchScopeKind! value: String key: String! }
input KillSwitchScopeInput { kind: KillSwitchScopeKind! value: String }
input KillSwitchFilter {
  """all, gateway.<id>, agent.<id> or connector.<id>"""
  scopeKey: String
  since: DateTime
  until: DateTime
}

"""One ingress replica confirming a kill-switch change."""
type KillSwitchAck { ingressId: String! latencyMs: Float! cutConnections: Int! acknowledgedAt: DateTime! }

type KillSwitchChange {
  eventId: ID!
  killSwitchId: ID!
  state: KillSwitchState!
  scope: KillSwitchScope!
  reason: String
  actor: String!
  changedAt: DateTime!
  acknowledgements: [KillSwitchAck!]!
}
type KillSwitchChangeEdge { cursor: String! node: KillSwitchChange! }
type KillSwitchChangeConnection { edges: [KillSwitchChangeEdge!]! nodes: [KillSwitchChange!]! pageInfo: PageInfo! }

input CredentialUseFilter {
  secretName: String
  gatewayId: String
  agentId: String
  runId: ID
  since: DateTime
  until: DateTime
}

"""One release of a credential to an ingress: the credential-use ledger."""
type CredentialUse {
  eventId: ID!
  actionId: ID!
  action: Action
  gatewayId: String!
  agentId: String!
  runId: ID!
  approvalId: ID
  connector: String!
  secretId: ID!
  secretName: String!
  secretVersion: Int!
  injection: String!
  ingressId: String!
  releasedAt: DateTime!
}
type CredentialUseEdge { cursor: String! node: CredentialUse! }
type CredentialUseConnection { edges: [CredentialUseEdge!]! nodes: [CredentialUse!]! pageInfo: PageInfo! }

type DecisionBucket { start: DateTime! allow: Int! deny: Int! requireApproval: Int! }

"""Secret metadata. Never a value."""
type Secret {
  gatewayId: String!
  name: String!
  secretId: ID!
  version: Int!
  byteLength: Int!
  source: String!
  storedBy: String!
  storedAt: DateTime!
  rotatedAt: DateTime
  revokedAt: DateTime
}

type ApiToken { id: ID! name: String! role: Role! issuedBy: String! issuedAt: DateTime! revokedAt: DateTime revokedBy: String }

type ProcessorStatus {
  processorId: String!
  state: String!
  instanceId: String!
  checkpoint: String
  eventsApplied: Float!
  lastEventTime: DateTime
  failedEventId: String
  failedEventType: String
  errorCode: String
  errorMessage: String
}

type BacktestDecision { decision: Decision! rule: String policyVersion: Int }
type BacktestChange {
  actionId: ID!
  time: DateTime!
  gatewayId: String!
  agentId: String!
  runId: ID!
  actionType: String!
  connector: String!
  resource: String
  before: BacktestDecision!
  after: BacktestDecision!
  afterReason: String!
}
type BacktestTransition { transition: String! count: Int! }
type BacktestReport {
  candidateHash: String!
  candidateRules: Int!
  total: Int!
  evaluated: Int!
  unchanged: Int!
  changed: Int!
  ruleChanged: Int!
  skippedNotPolicy: Int!
  skippedInvalid: Int!
  warmup: Int!
  transitions: [BacktestTransition!]!
  changes: [BacktestChange!]!
  truncated: Boolean!
  """True when maxActions stopped the replay before the end of the period."""
  limited: Boolean!
  periodFrom: DateTime
  periodTo: DateTime
}

type Query {
  """Who the API token belongs to."""
  viewer: Viewer!
  actions(filter: ActionFilter, first: Int, after: String, last: Int, before: String): ActionConnection!
  action(id: ID!): Action
  approvals(filter: ApprovalFilter, first: Int, after: String, last: Int, before: String): ApprovalConnection!
  """Approvals waiting for a decision, with the exact request, votes and time left."""
  pendingApprovals(gatewayId: String, first: Int, after: String): ApprovalConnection!
  approval(id: ID!): Approval
  runs(filter: RunFilter, first: Int, after: String, last: Int, before: String): RunConnection!
  run(id: ID!): Run
  agents(first: Int, after: String, last: Int, before: String): AgentConnection!
  agent(id: ID!): Agent
  gateways: [Gateway!]!
  connectors(gatewayId: String): [Connector!]!
  policyVersions(gatewayId: String, first: Int, after: String, last: Int, before: String): PolicyVersionConnection!
  policyVersion(gatewayId: String!, version: Int!): PolicyVersion
  killSwitchHistory(filter: KillSwitchFilter, first: Int, after: String, last: Int, before: String): KillSwitchChangeConnection!
  """Kill switches engaged now (the latest change of each scope is an engage)."""
  activeKillSwitches: [KillSwitchChange!]!
  credentialUses(filter: CredentialUseFilter, first: Int, after: String, last: Int, before: String): CredentialUseConnection!
  """Decisions per bucket in [since, until), for a chart; at most 2,000 buckets."""
  decisionsOverTime(since: DateTime!, until: DateTime!, bucket: BucketWidth!, gatewayId: String): [DecisionBucket!]!
  secrets(gatewayId: String): [Secret!]!
  apiTokens: [ApiToken!]!
  """Replays recorded actions since a time against a candidate policy and lists every decision that would change."""
  policyBacktest(source: String!, since: DateTime!, until: DateTime, gatewayId: String, maxActions: Int, maxChanges: Int): BacktestReport!
  """The projector's processors: running, or stopped on an event they cannot apply."""
  projectionStatus: [ProcessorStatus!]!
}

type ApprovalVoteResult {
  approvalId: ID!
  status: ApprovalStatus!
  quorum: Int!
  approvals: [String!]!
  deniedBy: String
  reason: String
  expiresAt: DateTime!
}

type KillSwitchAcknowledgement { ingressId: String! latencyMs: Float! cutConnections: Int! }
type KillSwitchResult {
  killSwitchId: ID!
  state: KillSwitchState!
  """Live ingress replicas when the command was issued."""
  expected: Int!
  acknowledgements: [KillSwitchAcknowledgement!]!
  tookEffectMs: Float
}

"""A new API token. The token is shown this once and never again."""
type IssuedApiToken { tokenId: ID! token: String! role: Role! }

type Mutation {
  approve(approvalId: ID!, comment: String): ApprovalVoteResult!
  deny(approvalId: ID!, comment: String): ApprovalVoteResult!
  engageKillSwitch(scope: KillSwitchScopeInput!, reason: String!): KillSwitchResult!
  releaseKillSwitch(scope: KillSwitchScopeInput!, reason: String): KillSwitchResult!
  issueApiToken(name: String!, role: Role!): IssuedApiToken!
}

"""A decision as it is recorded (ActionDecided), live."""
type DecisionEvent {
  eventId: ID!
  time: DateTime!
  actionId: ID!
  gatewayId: String!
  agentId: String!
  runId: ID!
  decision: Decision!
  enforced: Boolean!
  reason: String!
  matchedRules: [String!]!
  decidingRule: String
  policyVersion: Int
  decidedBy: String!
  """The action from the read models (null until it is projected)."""
  action: Action
}

type ApprovalEvent {
  eventId: ID!
  type: ApprovalEventType!
  time: DateTime!
  approvalId: ID!
  actionId: ID!
  gatewayId: String!
  agentId: String!
  """The event's data as published."""
  data: JSON!
  approval: Approval
}

type KillSwitchEvent {
  eventId: ID!
  type: KillSwitchEventType!
  time: DateTime!
  killSwitchId: ID!
  scope: KillSwitchScope!
  reason: String
  actor: String
  ingressId: String
  latencyMs: Float
}

type Subscription {
  decisions(gatewayId: String, agentId: String, decision: [Decision!]): DecisionEvent!
  approvalEvents(gatewayId: String): ApprovalEvent!
  killSwitchEvents: KillSwitchEvent!
}
`;
