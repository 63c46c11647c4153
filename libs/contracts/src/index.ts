export { TameFlareError, ContractError, ContractErrorCode, isTameFlareError } from './errors.ts';
export { uuidv7, randomToken, isValidName, NAME_PATTERN } from './ids.ts';
export { canonicalJson, sha256Hex, digestOf } from './canonical.ts';
export * from './action.ts';
export { eventCatalog, eventTypes, type CatalogEntry, type EventType, type EventData } from './catalog.ts';
export {
  createEvent,
  validateEvent,
  parseEvent,
  subjectOf,
  streamOf,
  isHotPath,
  type EventEnvelope,
  type EventMetadata,
  type TameFlareEvent,
  type CreateEventOptions,
} from './envelope.ts';
export * from './subjects.ts';
export * as schemas from './schema.ts';
export { RequestSummarySchema, ApprovalRequirementSchema, ActionOutcomeSchema } from './events/action.ts';
export * from './sealed.ts';
export * from './kv.ts';
export * from './commands/policy.ts';
export * from './commands/policy-history.ts';
export * from './commands/vault.ts';
export * from './commands/approval.ts';
export * from './commands/control.ts';
export * from './permissions.ts';
export * from './commands/control-admin.ts';
export { decoder } from './decoder.ts';
