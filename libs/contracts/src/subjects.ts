/**
 * Every NATS name TameFlare uses: event subjects, JetStream streams and consumers, command
 * subjects with their queue groups, KV buckets and headers. Nothing else in the code base
 * spells a subject by hand; docs/events.md documents each one.
 */

/** The version of these contracts. Bumped on any breaking change to a subject or schema. */
export const CONTRACTS_VERSION = '1.0.0';

/** JetStream streams. */
export const Streams = {
  /**
   * Every event, `tf.evt.>`. Request-path events are published here first (their durability
   * point); other events are relayed here from the event store. Other tools subscribe here.
   */
  events: { name: 'TF_EVENTS', subjects: ['tf.evt.>'] },
} as const;

/** Durable JetStream consumers owned by TameFlare services. */
export const Consumers = {
  /** The recorder: request-path events into the event store. Shared by every recorder replica. */
  recorder: { stream: 'TF_EVENTS', durable: 'tf-recorder', filterSubject: 'tf.evt.action.>' },
  /** The approval service: decisions that require approval (for notification channels). */
  approvalNotifier: { stream: 'TF_EVENTS', durable: 'tf-approval-notifier', filterSubject: 'tf.evt.approval.requested.>' },
} as const;

/** Event subject patterns for subscribers. The full list is in docs/events.md. */
export const EventSubjects = {
  all: 'tf.evt.>',
  actions: 'tf.evt.action.>',
  decisions: 'tf.evt.action.decided.>',
  completions: 'tf.evt.action.completed.>',
  approvals: 'tf.evt.approval.>',
  killSwitch: 'tf.evt.killswitch.>',
  policy: 'tf.evt.policy.>',
} as const;

/**
 * Request/reply command subjects and the queue group each service listens in, so any number of
 * replicas share the load and exactly one answers each request.
 */
export const Commands = {
  policyDecide: { subject: 'tf.cmd.policy.decide', queue: 'policy' },
  policyPublish: { subject: 'tf.cmd.policy.publish', queue: 'policy' },
  vaultRelease: { subject: 'tf.cmd.vault.release', queue: 'vault' },
  vaultSecretPut: { subject: 'tf.cmd.vault.secret.put', queue: 'vault' },
  vaultSecretList: { subject: 'tf.cmd.vault.secret.list', queue: 'vault' },
  vaultSecretRevoke: { subject: 'tf.cmd.vault.secret.revoke', queue: 'vault' },
  vaultMasterKeyRotate: { subject: 'tf.cmd.vault.master_key.rotate', queue: 'vault' },
  vaultPublicKey: { subject: 'tf.cmd.vault.public_key', queue: 'vault' },
  approvalOpen: { subject: 'tf.cmd.approval.open', queue: 'approval' },
  approvalStatus: { subject: 'tf.cmd.approval.status', queue: 'approval' },
  approvalClaim: { subject: 'tf.cmd.approval.claim', queue: 'approval' },
  approvalVote: { subject: 'tf.cmd.approval.vote', queue: 'approval' },
  approvalWebhookCallback: { subject: 'tf.cmd.approval.webhook_callback', queue: 'approval' },
  runStart: { subject: 'tf.cmd.control.run.start', queue: 'control' },
  runEnd: { subject: 'tf.cmd.control.run.end', queue: 'control' },
  killSwitchEngage: { subject: 'tf.cmd.control.killswitch.engage', queue: 'control' },
  killSwitchRelease: { subject: 'tf.cmd.control.killswitch.release', queue: 'control' },
  gatewayCreate: { subject: 'tf.cmd.control.gateway.create', queue: 'control' },
  gatewaySetMode: { subject: 'tf.cmd.control.gateway.set_mode', queue: 'control' },
  connectorConfigure: { subject: 'tf.cmd.control.connector.configure', queue: 'control' },
  connectorRemove: { subject: 'tf.cmd.control.connector.remove', queue: 'control' },
  tokenIssue: { subject: 'tf.cmd.control.token.issue', queue: 'control' },
  tokenRevoke: { subject: 'tf.cmd.control.token.revoke', queue: 'control' },
} as const;

/** Core NATS control-plane subjects (not stored). */
export const ControlSubjects = {
  /** Ingress replicas confirm a kill-switch change here; the control service records each ack. */
  killSwitchAck: 'tf.ctl.killswitch.ack',
} as const;

/** JetStream KV buckets: state every replica watches. */
export const Buckets = {
  /** Engaged kill switches, key = scope key (`all`, `gateway.<id>`, `agent.<id>`, `connector.<id>`). */
  killSwitch: 'tf_killswitch',
  /** Active policy bundle per gateway, key = gateway id. */
  policy: 'tf_policy',
  /** Gateways and their enforcement mode, key = gateway id. */
  gateways: 'tf_gateways',
  /** Live agent runs, key = SHA-256 of the run token. */
  runs: 'tf_runs',
  /** Connectors enabled per gateway, key = `<gateway>.<connector>`. */
  connectors: 'tf_connectors',
  /** Live ingress replicas (heartbeats with a TTL), key = ingress instance id. */
  instances: 'tf_instances',
  /** Session-aware policy state (counts and sums per run and agent), key = `<gateway>.<run|agent>.<id>`. */
  sessions: 'tf_sessions',
  /** API token hashes and roles, key = SHA-256 of the token. */
  apiTokens: 'tf_api_tokens',
  /** Approval slots: which approval a (run, request digest) is bound to. */
  approvalSlots: 'tf_approval_slots',
} as const;

/** NATS message headers TameFlare sets. Trace context uses the W3C names `traceparent`/`tracestate`. */
export const Headers = {
  msgId: 'Nats-Msg-Id',
  eventType: 'Tf-Event-Type',
  eventVersion: 'Tf-Event-Version',
  gatewayId: 'Tf-Gateway-Id',
  correlationId: 'Tf-Correlation-Id',
} as const;
