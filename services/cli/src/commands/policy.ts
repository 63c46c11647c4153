import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import {
  Commands,
  PolicyHistoryCommand,
  type PolicyHistoryReply,
  type PublishPolicyReply,
} from '@tameflare/contracts';
import type { CompiledBundle, PolicyIssue, PolicyTestSuite } from '@tameflare/policy-engine';
import { flag, intOpt, stringOpt } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { CliError, ExitCode, usageError } from '../errors.ts';
import { GATEWAY_OPTION, gatewayOf, requireGateway } from '../operator/gateway.ts';
import { readInputFile } from '../operator/read-input-file.ts';
import { refusalsAreUserErrors } from '../operator/refusals.ts';
import { pointInTime } from '../operator/time-range.ts';
import { defineCommand, type CommandSpec } from '../registry.ts';

/** A bundle travels in one NATS message (1 MB by default); the publish schema allows 4 MiB. */
const MAX_POLICY_BYTES = 4 * 1024 * 1024;

const issuesOf = (err: unknown): PolicyIssue[] => {
  const e = err as { issues?: unknown; details?: { issues?: unknown } };
  const list = Array.isArray(e.issues) ? e.issues : Array.isArray(e.details?.issues) ? e.details.issues : [];
  return list as PolicyIssue[];
};

/** The policy engine (CEL, YAML): loaded only by the commands that need it, so tf starts fast. */
const engine = () => import('@tameflare/policy-engine');

/** `file:line:col: message`, the form editors and CI logs understand (as the engine's formatIssue). */
const formatIssue = (i: PolicyIssue) => `${i.file}:${i.line}:${i.col}: ${i.message}`;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Prints every issue as `file:line:col: message` and stops with exit 1. */
function invalid(ctx: CommandContext, file: string, issues: readonly PolicyIssue[], code = 'TF_ERR_POLICY_INVALID', hint = `fix the lines above; tf policy check ${file} checks again`): never {
  if (ctx.json) ctx.out.result({ ok: false, file, issues }, () => undefined);
  else for (const i of issues) ctx.out.note(formatIssue(i));
  throw new CliError(code, `${file} is not a valid policy: ${plural(issues.length, 'problem')}`, { hint, details: { issues } });
}

const check = defineCommand({
  name: 'policy check',
  summary: 'validate a policy file locally: every problem as file:line:col',
  usage: 'tf policy check FILE [--json]',
  description: `
Validates the YAML, every field, every glob and every CEL condition without contacting the
stack. Prints each problem as file:line:col: message (the form editors and CI logs link), or a
summary of the rules. Exit 1 when the file is invalid.`,
  json: true,
  examples: ['tf policy check policies/payments.yaml', 'tf policy check policy.yaml --json | jq .issues'],
  async run(ctx, args) {
    const { file, source } = readInputFile(args, ctx.cwd, { command: 'policy check', what: 'policy', maxBytes: MAX_POLICY_BYTES });
    const { checkBundle } = await engine();
    const report = checkBundle(source, { fileName: file });
    ctx.out.result(report, () => {
      if (!report.ok) {
        for (const i of report.issues) ctx.out.line(formatIssue(i));
        return;
      }
      const s = report.summary!;
      ctx.out.line(ctx.out.style.green(`${file}: valid`));
      ctx.out.line(`  ${plural(s.rules, 'rule')}: ${s.byEffect.allow} allow, ${s.byEffect.deny} deny, ${s.byEffect.require_approval} require_approval`);
      if (s.aggregates.length) ctx.out.line(`  session aggregates: ${s.aggregates.join(', ')}`);
      ctx.out.line(`  hash ${report.hash}`);
    });
    if (!report.ok) {
      throw new CliError('TF_ERR_POLICY_INVALID', `${file} is not a valid policy: ${plural(report.issues.length, 'problem')}`, { hint: 'fix the lines above and run tf policy check again' });
    }
    return ExitCode.Ok;
  },
});

const apply = defineCommand({
  name: 'policy apply',
  summary: 'publish a policy file as the next version of a gateway policy',
  usage: 'tf policy apply FILE [--gateway G] [--expected-version N] [--json]',
  description: `
Checks the file locally, then publishes it through the policy service, which validates it again,
records PolicyBundlePublished as the gateway's next version and makes it live on every policy
replica. An invalid file is refused with every problem as file:line:col and the live policy does
not change. Publishing the content of the active version again makes no new version.

--expected-version N refuses the publish unless version N is the latest (for CI pipelines that
must not overwrite a change they have not seen). A local operator command (NATS as admin).`,
  options: {
    gateway: GATEWAY_OPTION,
    'expected-version': { type: 'string', valueName: 'N', description: 'refuse unless N is the latest published version (0: none yet)' },
  },
  json: true,
  examples: ['tf policy apply policies/payments.yaml', 'tf policy apply policy.yaml --gateway staging --expected-version 4'],
  async run(ctx, args) {
    const gatewayId = gatewayOf(args);
    const expectedVersion = intOpt(args, 'expected-version', undefined, { min: 0 });
    const { file, source } = readInputFile(args, ctx.cwd, { command: 'policy apply', what: 'policy', maxBytes: MAX_POLICY_BYTES });
    const { checkBundle } = await engine();
    const local = checkBundle(source, { fileName: file });
    if (!local.ok) invalid(ctx, file, local.issues, 'TF_ERR_POLICY_INVALID', 'nothing was published and the live policy is unchanged; fix the lines above');
    const { bus } = await ctx.admin();
    await requireGateway(bus, gatewayId);
    let reply: PublishPolicyReply;
    try {
      reply = await refusalsAreUserErrors(
        bus.request<PublishPolicyReply>(
          Commands.policyPublish,
          { gatewayId, source, fileName: file, publishedBy: ctx.actor, ...(expectedVersion === undefined ? {} : { expectedVersion }) },
          { timeoutMs: 30_000 },
        ),
        {
          TF_ERR_POLICY_INVALID: 'nothing was published and the live policy is unchanged; fix the lines above',
          TF_ERR_POLICY_VERSION_CONFLICT: `tf policy history --gateway ${gatewayId} shows the latest version; review it, then apply with --expected-version set to it`,
        },
      );
    } catch (err) {
      if (err instanceof CliError && err.code === 'TF_ERR_POLICY_INVALID') invalid(ctx, file, issuesOf(err.cause), err.code, err.hint);
      throw err;
    }
    ctx.out.result(reply, () => {
      ctx.out.line(ctx.out.style.green(`Applied ${file} to gateway ${reply.gatewayId}: version ${reply.version} is live.`));
      ctx.out.line(`  ${plural(reply.ruleCount, 'rule')}, hash ${reply.hash}`);
    });
    return ExitCode.Ok;
  },
});

/** The bundle a test file names, compiled; its problems are reported against its own file. */
async function bundleUnderTest(ctx: CommandContext, testPath: string, suite: PolicyTestSuite, explicit: string | undefined): Promise<{ file: string; bundle: CompiledBundle }> {
  const { compileBundle } = await engine();
  const target = explicit !== undefined ? resolve(ctx.cwd, explicit) : suite.policy !== null ? resolve(dirname(testPath), suite.policy) : null;
  if (target === null) throw usageError(`${suite.file} does not name the policy it tests`, 'add policy: ./your-policy.yaml at the top of the test file, or pass --policy FILE');
  const file = relative(ctx.cwd, target) || target;
  let source: string;
  try {
    source = readFileSync(target, 'utf8');
  } catch (cause) {
    throw new CliError('TF_ERR_CLI_USAGE', `cannot read the policy under test ${file}: ${(cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (cause as Error).message}`, {
      cause,
      hint: `the policy: path in ${suite.file} is relative to the test file`,
    });
  }
  try {
    return { file, bundle: compileBundle(source, { fileName: file }) };
  } catch (err) {
    const issues = issuesOf(err);
    if (issues.length) invalid(ctx, file, issues);
    throw err;
  }
}

const test = defineCommand({
  name: 'policy test',
  summary: 'run the cases of a policy test file against the policy it names',
  usage: 'tf policy test FILE [--policy POLICY] [--json]',
  description: `
A test file names its policy (policy: ./default.yaml, relative to the test file) and lists cases,
each an input (action, agent, gateway, time, session values...) and the decision, deciding rule
or matched rules it expects. Every case runs locally against the compiled policy. Exit 1 when a
case fails or either file is invalid (each problem as file:line:col). Format: docs/policy.md.`,
  options: { policy: { type: 'string', valueName: 'POLICY', description: 'test this policy file instead of the one the test file names' } },
  json: true,
  examples: ['tf policy test infra/policies/default.test.yaml'],
  async run(ctx, args) {
    const { file, path, source } = readInputFile(args, ctx.cwd, { command: 'policy test', what: 'test', maxBytes: MAX_POLICY_BYTES });
    const { parsePolicyTests, runPolicyTests } = await engine();
    let suite: PolicyTestSuite;
    try {
      suite = parsePolicyTests(source, file);
    } catch (err) {
      const issues = issuesOf(err);
      if (!issues.length) throw err;
      if (ctx.json) ctx.out.result({ ok: false, file, issues }, () => undefined);
      else for (const i of issues) ctx.out.note(formatIssue(i));
      throw new CliError('TF_ERR_POLICY_TESTS_INVALID', `${file} is not a valid test file: ${plural(issues.length, 'problem')}`, { hint: 'fix the lines above; the format is in docs/policy.md (Test files)' });
    }
    const { file: policyFile, bundle } = await bundleUnderTest(ctx, path, suite, stringOpt(args, 'policy'));
    const report = runPolicyTests(bundle, suite);
    ctx.out.result({ ...report, policyFile }, () => {
      const s = ctx.out.style;
      for (const c of report.cases) {
        ctx.out.line(`${c.ok ? s.green('pass') : s.red('FAIL')}  ${c.name}${c.ok ? '' : s.dim(`  (${file}:${c.line})`)}`);
        for (const f of c.failures) ctx.out.line(`        ${f}`);
      }
      ctx.out.line('');
      ctx.out.line(`${policyFile} (${plural(report.policy.rules, 'rule')}): ${report.passed} passed, ${report.failed} failed, ${report.total} total`);
    });
    if (!report.ok) {
      throw new CliError('TF_ERR_POLICY_TESTS_FAILED', `${plural(report.failed, 'case')} of ${file} failed`, { hint: 'each failure above says what was expected and what the policy decided' });
    }
    return ExitCode.Ok;
  },
});

interface BacktestDecision {
  decision: string;
  rule: string | null;
  policyVersion: number | null;
}

interface BacktestResult {
  candidateHash: string;
  candidateRules: number;
  total: number;
  evaluated: number;
  unchanged: number;
  changed: number;
  ruleChanged: number;
  skippedNotPolicy: number;
  skippedInvalid: number;
  warmup: number;
  transitions: { transition: string; count: number }[];
  changes: {
    actionId: string;
    time: string;
    gatewayId: string;
    agentId: string;
    runId: string;
    actionType: string;
    connector: string;
    resource: string | null;
    before: BacktestDecision;
    after: BacktestDecision;
    afterReason: string;
  }[];
  truncated: boolean;
  limited: boolean;
  periodFrom: string | null;
  periodTo: string | null;
}

const BACKTEST_QUERY = /* GraphQL */ `
  query Backtest($source: String!, $since: DateTime!, $until: DateTime, $gatewayId: String, $maxChanges: Int, $maxActions: Int) {
    policyBacktest(source: $source, since: $since, until: $until, gatewayId: $gatewayId, maxChanges: $maxChanges, maxActions: $maxActions) {
      candidateHash candidateRules total evaluated unchanged changed ruleChanged skippedNotPolicy skippedInvalid warmup
      transitions { transition count }
      changes {
        actionId time gatewayId agentId runId actionType connector resource afterReason
        before { decision rule policyVersion }
        after { decision rule policyVersion }
      }
      truncated limited periodFrom periodTo
    }
  }`;

const lower = (d: string) => d.toLowerCase();

const backtest = defineCommand({
  name: 'policy backtest',
  summary: 'replay recorded decisions against a candidate policy and list every one that would change',
  usage: 'tf policy backtest FILE [--since 7d] [--until T] [--gateway G] [--max-changes N] [--json]',
  description: `
Checks the file locally, then asks the audit API (policyBacktest) to replay every action the
gateway decided in the period against the candidate: each at its recorded time with its recorded
input, session limits simulated under the candidate. Nothing live changes. Prints the counts,
the transitions (allow->deny...) and each action whose decision or deciding rule would change.
--since and --until take a duration before now (30m, 7d) or an ISO time.`,
  options: {
    since: { type: 'string', valueName: 'WHEN', description: 'start of the period (default 7d)' },
    until: { type: 'string', valueName: 'WHEN', description: 'end of the period (default now)' },
    gateway: GATEWAY_OPTION,
    'max-changes': { type: 'string', valueName: 'N', description: 'list at most N changes (the counts cover all; default 1000)' },
    'max-actions': { type: 'string', valueName: 'N', description: 'replay at most N recorded actions' },
  },
  json: true,
  examples: ['tf policy backtest candidate.yaml --since 7d', 'tf policy backtest candidate.yaml --since 2026-05-01 --json | jq .changes'],
  async run(ctx, args) {
    const gatewayId = gatewayOf(args);
    const now = Date.now();
    const since = pointInTime('since', stringOpt(args, 'since') ?? '7d', now);
    const untilText = stringOpt(args, 'until');
    const until = untilText === undefined ? null : pointInTime('until', untilText, now);
    if (until && since >= until) throw usageError(`--since (${since}) must be before --until (${until})`);
    const maxChanges = intOpt(args, 'max-changes', 1000, { min: 0, max: 100_000 });
    const maxActions = intOpt(args, 'max-actions', undefined, { min: 1 });
    const { file, source } = readInputFile(args, ctx.cwd, { command: 'policy backtest', what: 'policy', maxBytes: MAX_POLICY_BYTES });
    const { checkBundle } = await engine();
    const local = checkBundle(source, { fileName: file });
    if (!local.ok) invalid(ctx, file, local.issues, 'TF_ERR_POLICY_INVALID', 'fix the lines above; nothing was replayed');
    ctx.out.progress(`Replaying the decisions of gateway ${gatewayId} since ${since}...`);
    const { policyBacktest: r } = await ctx.graphql().request<{ policyBacktest: BacktestResult }>(BACKTEST_QUERY, {
      source,
      since,
      until,
      gatewayId,
      maxChanges,
      ...(maxActions === undefined ? {} : { maxActions }),
    });
    ctx.out.endProgress();
    const report = { file, gatewayId, since, until, ...r };
    ctx.out.result(report, () => {
      const s = ctx.out.style;
      ctx.out.line(`Backtest of ${file} (${plural(r.candidateRules, 'rule')}, hash ${r.candidateHash.slice(0, 12)}) on gateway ${gatewayId}`);
      ctx.out.line(`  period    ${r.periodFrom ?? since} to ${r.periodTo ?? until ?? 'now'}${r.limited ? s.yellow(' (stopped at --max-actions)') : ''}`);
      ctx.out.line(`  replayed  ${r.evaluated} decisions: ${r.unchanged} unchanged, ${r.changed === 0 ? s.green('0 would change') : s.yellow(`${r.changed} would change`)}${r.ruleChanged ? `, ${r.ruleChanged} decided by another rule` : ''}`);
      if (r.transitions.length) ctx.out.line(`  changes   ${r.transitions.map((t) => `${t.transition} ${t.count}`).join(', ')}`);
      if (r.skippedNotPolicy || r.skippedInvalid) ctx.out.line(`  skipped   ${r.skippedNotPolicy} decided before policy (kill switch, egress), ${r.skippedInvalid} unreadable`);
      if (!r.changes.length) return;
      ctx.out.line('');
      ctx.out.table(
        ['TIME', 'AGENT', 'ACTION', 'RESOURCE', 'NOW', 'CANDIDATE', 'RULE'],
        r.changes.map((c) => [c.time, c.agentId, c.actionType, c.resource, `${lower(c.before.decision)}${c.before.rule ? ` (${c.before.rule})` : ''}`, lower(c.after.decision), c.after.rule ?? '(default deny)']),
      );
      if (r.truncated) ctx.out.line(s.yellow(`  ... ${r.changed + r.ruleChanged - r.changes.length} more not listed (raise --max-changes)`));
    });
    return ExitCode.Ok;
  },
});

const history = defineCommand({
  name: 'policy history',
  summary: 'list the published versions of a gateway policy, or print one',
  usage: 'tf policy history [--gateway G] [--version N] [--json]',
  description: `
Lists every version published to the gateway (oldest first) with its hash, rule count, who
published it and when, and marks the version the policy service enforces. --version N prints
that version's YAML exactly as it was applied (diff two of them to see what changed).`,
  options: {
    gateway: GATEWAY_OPTION,
    version: { type: 'string', valueName: 'N', description: 'print the YAML source of version N' },
  },
  json: true,
  examples: ['tf policy history', 'diff <(tf policy history --version 2) <(tf policy history --version 3)'],
  async run(ctx, args) {
    const gatewayId = gatewayOf(args);
    const version = intOpt(args, 'version', undefined, { min: 1 });
    if (args.positionals.length) throw usageError(`unexpected argument ${JSON.stringify(args.positionals[0]!.slice(0, 60))}`, 'tf policy history [--gateway G] [--version N]');
    const { bus } = await ctx.admin();
    await requireGateway(bus, gatewayId);
    const reply = await bus.request<PolicyHistoryReply>(PolicyHistoryCommand, { gatewayId, includeSource: version !== undefined || flag(args, 'json') }, { timeoutMs: 15_000 });
    if (version !== undefined) {
      const v = reply.versions.find((x) => x.version === version);
      if (!v) {
        throw usageError(`gateway ${gatewayId} has no policy version ${version}`, reply.versions.length ? `its versions are 1 to ${reply.versions.at(-1)!.version}` : `apply one with tf policy apply FILE --gateway ${gatewayId}`);
      }
      ctx.out.result(v, () => ctx.out.stdout.write(v.source ?? ''));
      return ExitCode.Ok;
    }
    ctx.out.result(reply, () => {
      if (!reply.versions.length) {
        ctx.out.line(`Gateway ${gatewayId} has no policy yet: every request is denied. Apply one with tf policy apply FILE.`);
        return;
      }
      ctx.out.table(
        ['VERSION', 'ACTIVE', 'RULES', 'HASH', 'PUBLISHED BY', 'PUBLISHED AT'],
        reply.versions.map((v) => [v.version, v.version === reply.active ? ctx.out.style.green('active') : '', v.ruleCount, v.hash.slice(0, 12), v.publishedBy, v.publishedAt]),
      );
    });
    return ExitCode.Ok;
  },
});

/** `tf policy check|apply|test|backtest|history`. */
export const policyCommands: readonly CommandSpec[] = [check, apply, test, backtest, history];
