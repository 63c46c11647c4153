import { flag, intOpt, stringOpt } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { CliError, ExitCode, usageError } from '../errors.ts';
import { GATEWAY_OPTION, gatewayOf } from '../operator/gateway.ts';
import { formatTimeLeft } from '../operator/time-range.ts';
import { defineCommand, type CommandSpec, type ParsedArgs } from '../registry.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface ApprovalNode {
  id: string;
  actionId: string;
  gatewayId: string;
  agentId: string;
  agentName: string;
  runId: string;
  status: string;
  ruleId: string | null;
  reason: string;
  approverRoles: string[];
  quorum: number;
  approvers: string[];
  request: { method: string; url: string; actionType: string; connector: string | null; resource: string | null; params: unknown; bodyDigest: string | null; requestDigest: string };
  votes: { voter: string; voterRole: string | null; vote: string | null; comment: string | null; channel: string; outcome: string; refusalReason: string | null; votedAt: string }[];
  requestedAt: string;
  expiresAt: string;
  timeLeftMs: number | null;
  decidedAt: string | null;
  deniedBy: string | null;
  denyReason: string | null;
}

const APPROVAL_FIELDS = /* GraphQL */ `
  id actionId gatewayId agentId agentName runId status ruleId reason approverRoles quorum approvers
  request { method url actionType connector resource params bodyDigest requestDigest }
  votes { voter voterRole vote comment channel outcome refusalReason votedAt }
  requestedAt expiresAt timeLeftMs decidedAt deniedBy denyReason`;

const PENDING_QUERY = /* GraphQL */ `
  query Pending($gatewayId: String, $first: Int, $after: String) {
    viewer { name role }
    pendingApprovals(gatewayId: $gatewayId, first: $first, after: $after) {
      nodes { ${APPROVAL_FIELDS} }
      pageInfo { hasNextPage endCursor }
    }
  }`;

const RECENT_QUERY = /* GraphQL */ `
  query Recent($filter: ApprovalFilter, $first: Int) {
    viewer { name role }
    approvals(filter: $filter, first: $first) { nodes { ${APPROVAL_FIELDS} } pageInfo { hasNextPage endCursor } }
  }`;

interface Viewer {
  name: string;
  role: string;
}

const lower = (s: string | null) => (s === null ? null : s.toLowerCase());

function printApproval(ctx: CommandContext, a: ApprovalNode): void {
  const s = ctx.out.style;
  const approvals = a.votes.filter((v) => v.outcome === 'RECORDED' && v.vote === 'approve').length;
  const state =
    a.status === 'PENDING'
      ? `${s.yellow('pending')}, ${a.timeLeftMs === null ? '?' : a.timeLeftMs > 0 ? `${formatTimeLeft(a.timeLeftMs)} left` : 'expiring now'}`
      : lower(a.status)!;
  ctx.out.line(`${s.bold(a.id)}  ${state}  ${approvals}/${a.quorum} approvals from ${a.approverRoles.map(lower).join(' or ')}`);
  ctx.out.line(`  agent    ${a.agentId}${a.agentName && a.agentName !== a.agentId ? ` (${a.agentName})` : ''} on gateway ${a.gatewayId}, run ${a.runId}`);
  ctx.out.line(`  request  ${a.request.method} ${a.request.url}`);
  ctx.out.line(`  action   ${a.request.actionType}${a.request.resource ? ` on ${a.request.resource}` : ''}`);
  if (a.request.params && typeof a.request.params === 'object' && Object.keys(a.request.params).length) ctx.out.line(`  params   ${JSON.stringify(a.request.params)}`);
  if (a.request.bodyDigest) ctx.out.line(`  body     ${a.request.bodyDigest}`);
  ctx.out.line(`  rule     ${a.ruleId ?? '-'}: ${a.reason}`);
  ctx.out.line(`  digest   ${a.request.requestDigest} (only this exact request can be released)`);
  for (const v of a.votes) {
    const what = v.outcome === 'RECORDED' ? `${v.vote === 'approve' ? s.green('approved') : s.red('denied')}` : s.dim(`refused (${v.refusalReason ?? 'not allowed'})`);
    ctx.out.line(`  vote     ${v.voter}${v.voterRole ? ` (${lower(v.voterRole)})` : ''} ${what} via ${v.channel} at ${v.votedAt}${v.comment ? `: ${JSON.stringify(v.comment)}` : ''}`);
  }
  if (a.deniedBy) ctx.out.line(`  denied   by ${a.deniedBy}${a.denyReason ? `: ${a.denyReason}` : ''}`);
}

const list = defineCommand({
  name: 'approvals list',
  summary: 'list pending approvals: the exact request, the votes and the time left',
  usage: 'tf approvals list [--gateway G | --all-gateways] [--recent N] [--json]',
  description: `
Each pending approval shows the request exactly as the agent sent it (method, URL, classified
action, parameters, body digest), the rule that asked for it, the votes so far, how many are
needed and from which roles, and the time left before it expires (the agent then gets 408).
--recent N lists the N latest approvals in any state instead.

Through the audit API with your API token (TF_API_TOKEN, else the bootstrap admin token).`,
  options: {
    gateway: GATEWAY_OPTION,
    'all-gateways': { type: 'boolean', description: 'every gateway' },
    recent: { type: 'string', valueName: 'N', description: 'the N latest approvals in any state' },
  },
  json: true,
  examples: ['tf approvals list', 'tf approvals list --recent 20', 'tf approvals list --json | jq ".approvals[].id"'],
  async run(ctx, args) {
    if (args.positionals.length) throw usageError(`unexpected argument ${JSON.stringify(args.positionals[0]!.slice(0, 60))}`, 'tf approvals list [--gateway G]');
    const everyGateway = flag(args, 'all-gateways');
    if (everyGateway && args.values.gateway !== undefined) throw usageError('give --gateway or --all-gateways, not both');
    const gatewayId = everyGateway ? null : gatewayOf(args);
    const recent = intOpt(args, 'recent', undefined, { min: 1, max: 500 });
    const gql = ctx.graphql();
    let viewer: Viewer;
    const approvals: ApprovalNode[] = [];
    if (recent !== undefined) {
      const r = await gql.request<{ viewer: Viewer; approvals: { nodes: ApprovalNode[] } }>(RECENT_QUERY, { filter: gatewayId ? { gatewayId } : {}, first: recent });
      viewer = r.viewer;
      approvals.push(...r.approvals.nodes);
    } else {
      let after: string | null = null;
      for (;;) {
        const r: { viewer: Viewer; pendingApprovals: { nodes: ApprovalNode[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } = await gql.request(PENDING_QUERY, { gatewayId, first: 200, after });
        viewer = r.viewer;
        approvals.push(...r.pendingApprovals.nodes);
        if (!r.pendingApprovals.pageInfo.hasNextPage || approvals.length >= 2000) break;
        after = r.pendingApprovals.pageInfo.endCursor;
      }
    }
    ctx.out.result({ viewer: viewer!, approvals }, () => {
      if (!approvals.length) {
        ctx.out.line(recent !== undefined ? 'No approvals yet.' : `No approval is pending${gatewayId ? ` on gateway ${gatewayId}` : ''}.`);
        return;
      }
      approvals.forEach((a, i) => {
        if (i) ctx.out.line('');
        printApproval(ctx, a);
      });
      ctx.out.line('');
      ctx.out.line(ctx.out.style.dim(`You vote as ${viewer!.name} (${lower(viewer!.role)}): tf approvals approve ID | tf approvals deny ID --reason TEXT`));
    });
    return ExitCode.Ok;
  },
});

interface VoteResult {
  approvalId: string;
  status: string;
  quorum: number;
  approvals: string[];
  deniedBy: string | null;
  reason: string | null;
  expiresAt: string;
}

const VOTE_MUTATION = (field: 'approve' | 'deny') => /* GraphQL */ `
  mutation Vote($approvalId: ID!, $comment: String) {
    ${field}(approvalId: $approvalId, comment: $comment) { approvalId status quorum approvals deniedBy reason expiresAt }
  }`;

/** Approve or deny as the holder of the API token: the audit API takes the voter and role from it. */
async function vote(ctx: CommandContext, args: ParsedArgs, decision: 'approve' | 'deny', commentOption: 'comment' | 'reason'): Promise<number> {
  const [approvalId, extra] = args.positionals;
  if (approvalId === undefined) throw usageError(`tf approvals ${decision} needs the approval id`, 'tf approvals list shows the pending approvals and their ids');
  if (extra !== undefined) throw usageError(`unexpected argument ${JSON.stringify(extra.slice(0, 60))}`, `quote a ${commentOption}: --${commentOption} "..."`);
  if (!UUID.test(approvalId)) throw usageError(`${JSON.stringify(approvalId.slice(0, 60))} is not an approval id`, 'tf approvals list shows the pending approvals and their ids');
  const comment = stringOpt(args, commentOption);
  if (comment !== undefined && comment.length > 1000) throw usageError(`--${commentOption} is longer than 1000 characters`);
  const gql = ctx.graphql();
  const { viewer } = await gql.request<{ viewer: Viewer }>('query { viewer { name role } }');
  let result: VoteResult;
  try {
    const r = await gql.request<Record<'approve' | 'deny', VoteResult>>(VOTE_MUTATION(decision), { approvalId, comment: comment ?? null });
    result = r[decision];
  } catch (err) {
    if (err instanceof CliError && err.exitCode === ExitCode.User) {
      throw new CliError(err.code, err.message, {
        cause: err,
        hint: /role|forbidden|not allowed/i.test(err.message)
          ? `you vote as ${viewer.name} (${lower(viewer.role)}); use an API token with a role the rule accepts (TF_API_TOKEN)`
          : 'tf approvals list shows what is pending; nothing was changed',
      });
    }
    throw err;
  }
  const output = { ...result, voter: viewer.name, voterRole: lower(viewer.role), vote: decision };
  ctx.out.result(output, () => {
    const s = ctx.out.style;
    const status = lower(result.status)!;
    const who = `as ${viewer.name} (${lower(viewer.role)})`;
    if (status === 'granted') ctx.out.line(s.green(`Approved ${result.approvalId} ${who}: granted (${result.approvals.join(', ')}). The held request goes upstream once.`));
    else if (status === 'denied') ctx.out.line(s.red(`Denied ${result.approvalId} ${who}${result.reason ? `: ${result.reason}` : ''}. The agent gets 403.`));
    else ctx.out.line(`Vote recorded on ${result.approvalId} ${who}: ${status}, ${result.approvals.length}/${result.quorum} approvals.`);
  });
  return ExitCode.Ok;
}

const approve = defineCommand({
  name: 'approvals approve',
  summary: 'approve a pending approval (as the holder of your API token)',
  usage: 'tf approvals approve ID [--comment TEXT] [--json]',
  description: `
Records your approval through the audit API; the voter and role come from your API token
(TF_API_TOKEN, else the bootstrap admin token), never from the command line. Once the rule's
quorum of distinct approvers is reached the held request is forwarded, exactly once.`,
  options: { comment: { type: 'string', valueName: 'TEXT', description: 'recorded with the vote' } },
  json: true,
  examples: ['tf approvals approve 0192f0c4-...', 'TF_API_TOKEN=tfa_... tf approvals approve ID --comment "checked with finance"'],
  run: (ctx, args) => vote(ctx, args, 'approve', 'comment'),
});

const deny = defineCommand({
  name: 'approvals deny',
  summary: 'deny a pending approval: the agent gets 403',
  usage: 'tf approvals deny ID [--reason TEXT] [--json]',
  description: `
One deny from an allowed role denies the approval at once; the held request is answered 403
with your reason. The voter and role come from your API token.`,
  options: { reason: { type: 'string', valueName: 'TEXT', description: 'why (recorded, and shown to the agent)' } },
  json: true,
  examples: ['tf approvals deny 0192f0c4-... --reason "refund already issued"'],
  run: (ctx, args) => vote(ctx, args, 'deny', 'reason'),
});

/** `tf approvals list|approve|deny`. */
export const approvalsCommands: readonly CommandSpec[] = [list, approve, deny];
