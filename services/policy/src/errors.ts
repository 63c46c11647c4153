import { TameFlareError } from '@tameflare/contracts';

/** Codes the policy service answers with (besides TF_ERR_POLICY_INVALID from the engine). */
export const PolicyServiceErrorCode = {
  /** The ActionDecided event was not acknowledged by JetStream: nothing may go upstream (503). */
  NotRecorded: 'TF_ERR_POLICY_NOT_RECORDED',
  /** Session state could not be read or updated (KV down, or contention beyond the retries): 503. */
  SessionUnavailable: 'TF_ERR_POLICY_SESSION_UNAVAILABLE',
  /** The vault could not release the credential of an allowed action (other than a missing secret): 503. */
  CredentialUnavailable: 'TF_ERR_POLICY_CREDENTIAL_UNAVAILABLE',
  /** The approval service could not open the approval: 503. */
  ApprovalUnavailable: 'TF_ERR_POLICY_APPROVAL_UNAVAILABLE',
  /** `publish` was given an expectedVersion that is no longer the active one. */
  VersionConflict: 'TF_ERR_POLICY_VERSION_CONFLICT',
  /** The event store could not record a publish: the live policy did not change. */
  PublishNotRecorded: 'TF_ERR_POLICY_PUBLISH_NOT_RECORDED',
  /** The event store could not be read for the version history. */
  HistoryUnavailable: 'TF_ERR_POLICY_HISTORY_UNAVAILABLE',
} as const;

/** Error codes recorded in ActionDecided.error (the request was denied, not failed). */
export const DecisionErrorCode = {
  /** No bundle is published for the gateway. */
  NoBundle: 'TF_ERR_POLICY_NO_BUNDLE',
  /** The active bundle could not be loaded on this replica. */
  BundleUnusable: 'TF_ERR_POLICY_BUNDLE_UNUSABLE',
  /** The session state in KV is not readable. */
  SessionCorrupt: 'TF_ERR_POLICY_SESSION_CORRUPT',
} as const;

/** A failure of the policy service itself; the caller answers 503 and forwards nothing. */
export class PolicyServiceError extends TameFlareError {}
