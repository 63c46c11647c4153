export { PolicyErrorCode, PolicyInvalidError, formatIssue, type PolicyIssue } from './errors.ts';
export {
  POLICY_FORMAT_VERSION,
  type ActionCatalog,
  type ApprovalRequirement,
  type EvaluationInput,
  type EvaluationResult,
  type PolicyDocument,
  type PolicyRule,
  type RuleMatch,
  type SessionAggregate,
} from './types.ts';
export { parseDuration, formatDuration } from './duration.ts';
export { compileGlob, globsOverlap, type Glob, type GlobKind } from './glob.ts';
export { policyDeclarations, policyCelEnv } from './cel.ts';
export { parseBundle, type ParsedBundle, type ParseOptions } from './parse-bundle.ts';
export { checkBundle, type CheckReport } from './check-bundle.ts';
export { compileBundle, bundleHash, canonicalSource, type CompiledBundle, type CompiledRule, type CompileOptions, type MatchInput } from './compile-bundle.ts';
export { evaluate } from './evaluate.ts';
export { buildInput, inputDigest } from './input.ts';
export { decidedEventData } from './decision-event.ts';
export {
  computeSession,
  sessionEntryFor,
  appendSessionEntry,
  sessionOverflowResult,
  sessionKey,
  sessionStateOf,
  decodeSessionState,
  SESSION_ENTRY_LIMIT,
  type SessionEntry,
  type SessionState,
} from './session.ts';
export { parsePolicyTests, runPolicyTests, type PolicyTestCase, type PolicyTestSuite, type PolicyTestReport, type PolicyTestCaseResult } from './policy-tests.ts';
export { backtest, type BacktestOptions, type BacktestReport, type BacktestChange, type RecordedDecision } from './backtest.ts';
export { rebuildSessions } from './rebuild-sessions.ts';
export { verifyDecisions, type VerifyReport, type DecisionMismatch, type BundleResolver } from './verify-decisions.ts';
