import type { Static, TSchema } from '@sinclair/typebox';
import * as A from './events/action.ts';
import * as P from './events/approval.ts';
import * as C from './events/control.ts';
import * as V from './events/vault.ts';
import { killSwitchScopeKey } from './action.ts';

/**
 * One entry of the event catalog: the schema of each version, where the event is published on
 * NATS (`subject`) and which event-store stream it belongs to (`stream`).
 *
 * `hotPath` events are published straight to JetStream by the request path (that publish is
 * their durability point) and appended to the event store by the recorder. Every other event
 * is appended to the event store by the service that owns it, and relayed to JetStream.
 */
export interface CatalogEntry<S extends TSchema = TSchema> {
  readonly family: string;
  readonly latest: number;
  readonly versions: Readonly<Record<number, TSchema>> & { readonly [k: number]: TSchema };
  readonly schema: S;
  readonly hotPath: boolean;
  readonly subject: (data: Static<S>) => string;
  readonly stream: (data: Static<S>) => string;
}

function entry<S extends TSchema>(
  family: string,
  schema: S,
  subject: (d: Static<S>) => string,
  stream: (d: Static<S>) => string,
  hotPath = false,
): CatalogEntry<S> {
  return { family, latest: 1, versions: { 1: schema }, schema, hotPath, subject, stream };
}

const gw = (d: { gatewayId: string }) => d.gatewayId;

/**
 * Every event type TameFlare records, version 1 of each. Subjects are under `tf.evt.` and are
 * documented in docs/events.md; the JetStream stream `TF_EVENTS` captures all of them.
 */
export const eventCatalog = {
  ActionRequested: entry('action', A.ActionRequestedV1, (d) => `tf.evt.action.requested.${gw(d)}`, (d) => `action-${d.actionId}`, true),
  ActionDecided: entry('action', A.ActionDecidedV1, (d) => `tf.evt.action.decided.${gw(d)}`, (d) => `action-${d.actionId}`, true),
  CredentialReleased: entry('action', A.CredentialReleasedV1, (d) => `tf.evt.action.credential_released.${gw(d)}`, (d) => `action-${d.actionId}`, true),
  ActionCompleted: entry('action', A.ActionCompletedV1, (d) => `tf.evt.action.completed.${gw(d)}`, (d) => `action-${d.actionId}`, true),

  ApprovalRequested: entry('approval', P.ApprovalRequestedV1, (d) => `tf.evt.approval.requested.${gw(d)}`, (d) => `approval-${d.approvalId}`),
  ApprovalVoteRecorded: entry('approval', P.ApprovalVoteRecordedV1, (d) => `tf.evt.approval.vote_recorded.${gw(d)}`, (d) => `approval-${d.approvalId}`),
  ApprovalVoteRefused: entry('approval', P.ApprovalVoteRefusedV1, (d) => `tf.evt.approval.vote_refused.${gw(d)}`, (d) => `approval-${d.approvalId}`),
  ApprovalGranted: entry('approval', P.ApprovalGrantedV1, (d) => `tf.evt.approval.granted.${gw(d)}`, (d) => `approval-${d.approvalId}`),
  ApprovalDenied: entry('approval', P.ApprovalDeniedV1, (d) => `tf.evt.approval.denied.${gw(d)}`, (d) => `approval-${d.approvalId}`),
  ApprovalExpired: entry('approval', P.ApprovalExpiredV1, (d) => `tf.evt.approval.expired.${gw(d)}`, (d) => `approval-${d.approvalId}`),
  ApprovalCancelled: entry('approval', P.ApprovalCancelledV1, (d) => `tf.evt.approval.cancelled.${gw(d)}`, (d) => `approval-${d.approvalId}`),
  ApprovalConsumed: entry('approval', P.ApprovalConsumedV1, (d) => `tf.evt.approval.consumed.${gw(d)}`, (d) => `approval-${d.approvalId}`),

  KillSwitchEngaged: entry('killswitch', C.KillSwitchEngagedV1, () => 'tf.evt.killswitch.engaged', (d) => `killswitch-${killSwitchScopeKey(d.scope)}`),
  KillSwitchReleased: entry('killswitch', C.KillSwitchReleasedV1, () => 'tf.evt.killswitch.released', (d) => `killswitch-${killSwitchScopeKey(d.scope)}`),
  KillSwitchAcknowledged: entry('killswitch', C.KillSwitchAcknowledgedV1, () => 'tf.evt.killswitch.acknowledged', (d) => `killswitch-ack-${d.killSwitchId}`),

  PolicyBundlePublished: entry('policy', C.PolicyBundlePublishedV1, (d) => `tf.evt.policy.published.${gw(d)}`, (d) => `policy-${d.gatewayId}`),
  GatewayCreated: entry('gateway', C.GatewayCreatedV1, (d) => `tf.evt.gateway.created.${gw(d)}`, (d) => `gateway-${d.gatewayId}`),
  GatewayModeChanged: entry('gateway', C.GatewayModeChangedV1, (d) => `tf.evt.gateway.mode_changed.${gw(d)}`, (d) => `gateway-${d.gatewayId}`),
  ConnectorConfigured: entry('connector', C.ConnectorConfiguredV1, (d) => `tf.evt.connector.configured.${gw(d)}`, (d) => `connector-${d.gatewayId}-${d.connectorId}`),
  ConnectorRemoved: entry('connector', C.ConnectorRemovedV1, (d) => `tf.evt.connector.removed.${gw(d)}`, (d) => `connector-${d.gatewayId}-${d.connectorId}`),
  AgentRunStarted: entry('run', C.AgentRunStartedV1, (d) => `tf.evt.run.started.${gw(d)}`, (d) => `run-${d.runId}`),
  AgentRunEnded: entry('run', C.AgentRunEndedV1, (d) => `tf.evt.run.ended.${gw(d)}`, (d) => `run-${d.runId}`),
  ApiTokenIssued: entry('token', C.ApiTokenIssuedV1, () => 'tf.evt.token.issued', (d) => `api-token-${d.tokenId}`),
  ApiTokenRevoked: entry('token', C.ApiTokenRevokedV1, () => 'tf.evt.token.revoked', (d) => `api-token-${d.tokenId}`),

  SecretStored: entry('secret', V.SecretStoredV1, (d) => `tf.evt.secret.stored.${gw(d)}`, (d) => `secret-${d.gatewayId}-${d.name}`),
  SecretRotated: entry('secret', V.SecretRotatedV1, (d) => `tf.evt.secret.rotated.${gw(d)}`, (d) => `secret-${d.gatewayId}-${d.name}`),
  SecretRevoked: entry('secret', V.SecretRevokedV1, (d) => `tf.evt.secret.revoked.${gw(d)}`, (d) => `secret-${d.gatewayId}-${d.name}`),
  MasterKeyRotated: entry('secret', V.MasterKeyRotatedV1, () => 'tf.evt.secret.master_key_rotated', () => 'vault-master-key'),
} as const;

/** The name of every event type in the catalog. */
export type EventType = keyof typeof eventCatalog;
/** The data of the latest version of event type `T`. */
export type EventData<T extends EventType> = Static<(typeof eventCatalog)[T]['schema']>;
/** All event type names, in catalog order. */
export const eventTypes = Object.keys(eventCatalog) as EventType[];
