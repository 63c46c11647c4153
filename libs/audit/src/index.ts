export { AuditError, AuditErrorCode, isAuditInputError } from './errors.ts';
export { READ_MODEL_SCHEMA, REBUILD_SCHEMA, OPS_SCHEMA } from './db/schemas.ts';
export { createAuditPool, readModelDb, opsDb, pgTimestampToIso, type AuditPoolOptions, type ReadModels, type OpsTables } from './db/connect.ts';
export { migrateReadModels, migrateOps } from './db/migrate.ts';
export { kyselyOnClient, type Queryable } from './db/on-client.ts';

export { foldBatch, requestUrl, minuteBucket, type ProjectableEvent, type ProjectionPlan } from './projection/fold-batch.ts';
export { applyPlan, isPermanentProjectionError } from './projection/apply-plan.ts';
export {
  projectBatch,
  applyEvents,
  sealChainBatch,
  projectIsolating,
  readModelGeneration,
  type CheckpointStore,
  type StoredEvent,
  type ProjectBatchOptions,
  type SealChainBatchOptions,
} from './projection/project-batch.ts';
export { writeProcessorStatus, readProcessorStatus, type ProcessorStatus, type ProcessorState } from './projection/processor-status.ts';

export { eventHash, chainHash, GENESIS_CHAIN_HASH, type SealedRecord } from './chain/hash.ts';
export { chainRows, sealBatch, signHead, loadChainHead, chainLength, type SealableEvent, type ChainHead, type ChainRow, type SigningPolicy, type SealResult } from './chain/seal-batch.ts';
export {
  loadOrCreateSigningKey,
  loadTrustedKey,
  trustedKeyFrom,
  keyIdOf,
  publicKeyBase64,
  signCheckpoint,
  verifyCheckpoint,
  SIGNING_KEY_FILE,
  PUBLIC_KEY_FILE,
  type ChainSigningKey,
  type TrustedKey,
} from './chain/signing-key.ts';
export { verifyChain, type ChainSource, type VerifyChainOptions, type VerifyReport, type VerifyProblem, type VerifyProblemKind } from './chain/verify-chain.ts';
export { exportAudit, formatRecord, CSV_COLUMNS, type ExportFormat, type ExportAuditOptions, type ExportRecord, type ExportHeader } from './chain/export-audit.ts';
export { verifyExport, parseTrustedKeys, parseCsvLine, type ExportVerifyReport, type ExportProblemKind } from './chain/verify-export.ts';

export { rebuildReadModels, replayReadModels, READ_MODEL_PROCESSOR_ID, type ReplayOptions, type RebuildOptions, type RebuildResult, type ReplayProgress, type ReplaySource } from './replay/replay-read-models.ts';
export { dumpReadModels, type TableDump } from './replay/dump-read-models.ts';

export { encodeCursor, decodeCursor, type KeysetPosition } from './queries/cursor.ts';
export { globToSql } from './queries/glob-sql.ts';
export { keysetPage, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE, type Page, type PageArgs } from './queries/page.ts';
export { listActions, actionsByIds, countActions, applyActionFilter, DECISIONS, OUTCOMES, RISKS, type ActionFilter, type ActionRow } from './queries/actions.ts';
export { listApprovals, getApproval, votesOf, APPROVAL_STATUSES, type ApprovalFilter, type ApprovalRow, type ApprovalVoteRow } from './queries/approvals.ts';
export { listRuns, getRun, listAgents, getAgent, type RunFilter, type RunRow, type AgentRow } from './queries/runs.ts';
export { listKillSwitchChanges, activeKillSwitches, acksOf, type KillSwitchFilter, type KillSwitchChangeRow, type KillSwitchAckRow } from './queries/kill-switch.ts';
export { listPolicyVersions, getPolicyVersion, type PolicyVersionRow } from './queries/policy-versions.ts';
export { listCredentialUses, type CredentialUseFilter, type CredentialUseRow } from './queries/credential-uses.ts';
export { decisionsOverTime, BUCKET_MINUTES, MAX_BUCKETS, type BucketWidth, type DecisionBucket } from './queries/decisions-over-time.ts';
export { listGateways, listConnectors, listSecrets, listApiTokens, type GatewayRow, type ConnectorRow, type SecretRow, type ApiTokenRow } from './queries/registry.ts';
export { tailActions, type TailOptions } from './queries/tail-actions.ts';
export { runReadModelProjection, runChainSealer, ProcessorIds, type RunProcessorOptions, type BatchApplied, type SubscriptionSource } from './projection/run-processors.ts';
export { recordedDecisions, decisionPairOf, type RecordedDecisionPair, type RecordedDecisionsOptions } from './queries/recorded-decisions.ts';
