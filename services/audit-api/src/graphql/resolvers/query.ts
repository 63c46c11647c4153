import {
  activeKillSwitches,
  AuditError,
  AuditErrorCode,
  countActions,
  decisionsOverTime,
  getAgent,
  getPolicyVersion,
  getRun,
  listActions,
  listAgents,
  listApiTokens,
  listApprovals,
  listConnectors,
  listCredentialUses,
  listGateways,
  listKillSwitchChanges,
  listPolicyVersions,
  listRuns,
  listSecrets,
  readProcessorStatus,
  recordedDecisions,
  type ActionFilter,
} from '@tameflare/audit';
import { backtest, compileBundle } from '@tameflare/policy-engine';
import type { AuditContext } from '../context.ts';
import { connection, pageArgs } from './types.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
function uuidArg(name: string, v: string): string {
  if (!UUID.test(v)) throw new AuditError(AuditErrorCode.InvalidFilter, `${name} ${JSON.stringify(v.slice(0, 80))} is not a UUID`);
  return v;
}

/** How many actions a backtest replays and changes it lists unless told otherwise, and the caps. */
export const BACKTEST_LIMITS = { defaultActions: 100_000, defaultChanges: 500, maxChanges: 10_000, maxSourceBytes: 4 * 1024 * 1024 };

type Args = Record<string, any>;

export const queryResolvers = {
  viewer: (_p: unknown, _a: Args, ctx: AuditContext) => ({ name: ctx.principal.name, role: ctx.principal.role }),
  actions: async (_p: unknown, a: Args, ctx: AuditContext) => {
    const filter: ActionFilter = a.filter ?? {};
    const page = await listActions(ctx.db, filter, pageArgs(a));
    let counted: Promise<{ count: number; capped: boolean }> | undefined;
    return connection(page, { totalCount: () => (counted ??= countActions(ctx.db, filter)) });
  },
  action: (_p: unknown, a: Args, ctx: AuditContext) => ctx.loaders.action.load(uuidArg('id', a.id)),
  approvals: async (_p: unknown, a: Args, ctx: AuditContext) => connection(await listApprovals(ctx.db, a.filter ?? {}, pageArgs(a))),
  pendingApprovals: async (_p: unknown, a: Args, ctx: AuditContext) =>
    connection(await listApprovals(ctx.db, { status: ['pending'], gatewayId: a.gatewayId }, { first: a.first, after: a.after })),
  approval: (_p: unknown, a: Args, ctx: AuditContext) => ctx.loaders.approval.load(uuidArg('id', a.id)),
  runs: async (_p: unknown, a: Args, ctx: AuditContext) => connection(await listRuns(ctx.db, a.filter ?? {}, pageArgs(a))),
  run: (_p: unknown, a: Args, ctx: AuditContext) => getRun(ctx.db, a.id),
  agents: async (_p: unknown, a: Args, ctx: AuditContext) => connection(await listAgents(ctx.db, pageArgs(a))),
  agent: (_p: unknown, a: Args, ctx: AuditContext) => getAgent(ctx.db, a.id),
  gateways: (_p: unknown, _a: Args, ctx: AuditContext) => listGateways(ctx.db),
  connectors: (_p: unknown, a: Args, ctx: AuditContext) => listConnectors(ctx.db, a.gatewayId ?? null),
  policyVersions: async (_p: unknown, a: Args, ctx: AuditContext) => connection(await listPolicyVersions(ctx.db, a.gatewayId ?? null, pageArgs(a))),
  policyVersion: (_p: unknown, a: Args, ctx: AuditContext) => getPolicyVersion(ctx.db, a.gatewayId, a.version),
  killSwitchHistory: async (_p: unknown, a: Args, ctx: AuditContext) => connection(await listKillSwitchChanges(ctx.db, a.filter ?? {}, pageArgs(a))),
  activeKillSwitches: (_p: unknown, _a: Args, ctx: AuditContext) => activeKillSwitches(ctx.db),
  credentialUses: async (_p: unknown, a: Args, ctx: AuditContext) => connection(await listCredentialUses(ctx.db, a.filter ?? {}, pageArgs(a))),
  decisionsOverTime: (_p: unknown, a: Args, ctx: AuditContext) => decisionsOverTime(ctx.db, { since: a.since, until: a.until, width: a.bucket, gatewayId: a.gatewayId }),
  secrets: (_p: unknown, a: Args, ctx: AuditContext) => listSecrets(ctx.db, a.gatewayId ?? null),
  apiTokens: (_p: unknown, _a: Args, ctx: AuditContext) => listApiTokens(ctx.db),
  projectionStatus: (_p: unknown, _a: Args, ctx: AuditContext) => readProcessorStatus(ctx.ops),
  policyBacktest: (_p: unknown, a: Args, ctx: AuditContext) => runBacktest(a, ctx),
};

/**
 * `policyBacktest`: compiles the candidate (an invalid one is a user error listing every issue),
 * replays the recorded actions from `since` (plus the candidate's longest aggregate window, to
 * warm session counts) through it, and reports every decision that would change. One backtest
 * runs at a time per API process; the rest wait their turn.
 */
async function runBacktest(a: Args, ctx: AuditContext) {
  const bad = (message: string) => new AuditError(AuditErrorCode.InvalidFilter, message);
  if (typeof a.source !== 'string' || Buffer.byteLength(a.source) > BACKTEST_LIMITS.maxSourceBytes) throw bad('source must be a policy bundle of at most 4 MiB');
  const maxActions = a.maxActions ?? Math.min(BACKTEST_LIMITS.defaultActions, ctx.backtest.maxActions);
  if (!Number.isInteger(maxActions) || maxActions < 1 || maxActions > ctx.backtest.maxActions) throw bad(`maxActions must be between 1 and ${ctx.backtest.maxActions}`);
  const maxChanges = a.maxChanges ?? BACKTEST_LIMITS.defaultChanges;
  if (!Number.isInteger(maxChanges) || maxChanges < 0 || maxChanges > BACKTEST_LIMITS.maxChanges) throw bad(`maxChanges must be between 0 and ${BACKTEST_LIMITS.maxChanges}`);
  const candidate = compileBundle(a.source, { fileName: 'candidate.yaml' });
  const since = new Date(Date.parse(a.since));
  const warmFrom = new Date(since.getTime() - candidate.maxWindowMs).toISOString();
  return ctx.backtest.run(async () => {
    const r = await backtest(candidate, recordedDecisions(ctx.db, { since: warmFrom, until: a.until ?? null, gatewayId: a.gatewayId ?? null, maxActions }), {
      reportFrom: since,
      maxChanges,
    });
    return {
      candidateHash: r.candidate.hash,
      candidateRules: r.candidate.rules,
      total: r.total,
      evaluated: r.evaluated,
      unchanged: r.unchanged,
      changed: r.changed,
      ruleChanged: r.ruleChanged,
      skippedNotPolicy: r.skipped.notPolicy,
      skippedInvalid: r.skipped.invalid,
      warmup: r.skipped.warmup,
      transitions: Object.entries(r.transitions).map(([transition, count]) => ({ transition, count })),
      changes: r.changes.map((c) => ({
        actionId: c.actionId,
        time: c.time,
        gatewayId: c.gatewayId,
        agentId: c.agentId,
        runId: c.runId,
        actionType: c.actionType,
        connector: c.connector,
        resource: c.resource,
        before: { decision: c.before.decision, rule: c.before.rule, policyVersion: c.before.policyVersion },
        after: { decision: c.after.decision, rule: c.after.rule, policyVersion: null },
        afterReason: c.after.reason,
      })),
      truncated: r.truncated,
      limited: r.total >= maxActions,
      periodFrom: r.period.from,
      periodTo: r.period.to,
    };
  });
}
