/** The whole-stack harness: a stack as `tf up` builds it, fake upstreams, and the real `tf` CLI. */
export { startTfStack, auditedActions, GATEWAY, type AuditedAction, type TfStack, type TfStackOptions } from './tf-stack.ts';
export { spawnTf, tf, runSummaryOf, REPO_ROOT, TF_BIN, type TfOptions, type TfProcess, type TfResult } from './tf-process.ts';
export { AGENTS, parseAgentLines, type AgentLine } from './agents.ts';
