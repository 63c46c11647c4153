import { GraphQLError } from '../graphql-runtime.ts';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { TSchema } from '@sinclair/typebox';
import {
  ApprovalStatusReplySchema,
  Commands,
  isValidName,
  KillSwitchReplySchema,
  TokenIssueReplySchema,
  type ApprovalStatusReply,
  type ApprovalVoteRequest,
  type KillSwitchCommand,
  type KillSwitchReply,
  type KillSwitchScope,
  type Role,
  type TokenIssueReply,
} from '@tameflare/contracts';
import type { CommandRef } from '@tameflare/messaging';
import type { AuditContext } from '../context.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function badInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

const checks = new Map<TSchema, ReturnType<typeof TypeCompiler.Compile>>();
/** Fails closed on a reply that does not match its contract rather than show half an answer. */
function expectReply<T>(schema: TSchema, reply: unknown, what: string): T {
  let check = checks.get(schema);
  if (!check) checks.set(schema, (check = TypeCompiler.Compile(schema)));
  if (!check.Check(reply)) {
    const e = check.Errors(reply).First();
    throw new Error(`unexpected reply to ${what}: ${e ? `${e.path} ${e.message}` : 'invalid'}`);
  }
  return reply as T;
}

function text(name: string, v: unknown, max: number, required = false): string | undefined {
  if (v === null || v === undefined || v === '') {
    if (required) throw badInput(`${name} is required`);
    return undefined;
  }
  if (typeof v !== 'string' || v.length > max) throw badInput(`${name} must be at most ${max} characters`);
  return v;
}

function scopeOf(input: { kind: KillSwitchScope['kind']; value?: string | null }): KillSwitchScope {
  if (input.kind === 'all') {
    if (input.value) throw badInput('a kill switch of scope ALL takes no value');
    return { kind: 'all' };
  }
  if (typeof input.value !== 'string' || !isValidName(input.value)) {
    throw badInput(`a kill switch of scope ${input.kind.toUpperCase()} needs the ${input.kind} id as value (lowercase letters, digits, - and _)`);
  }
  return { kind: input.kind, value: input.value };
}

async function vote(ctx: AuditContext, approvalId: string, decision: 'approve' | 'deny', comment: unknown) {
  if (!UUID.test(approvalId)) throw badInput(`approvalId ${JSON.stringify(approvalId.slice(0, 80))} is not a UUID`);
  const c = text('comment', comment, 1000);
  const request: ApprovalVoteRequest = {
    approvalId,
    voter: ctx.principal.name,
    voterRole: ctx.principal.role,
    vote: decision,
    channel: 'graphql',
    ...(c === undefined ? {} : { comment: c }),
  };
  const reply = expectReply<ApprovalStatusReply>(ApprovalStatusReplySchema, await ctx.bus.request(Commands.approvalVote, request, { timeoutMs: 5000 }), 'the vote');
  return { approvalId: reply.approvalId, status: reply.status, quorum: reply.quorum, approvals: reply.approvals, deniedBy: reply.deniedBy, reason: reply.reason, expiresAt: reply.expiresAt };
}

async function killSwitch(ctx: AuditContext, command: CommandRef, scope: KillSwitchScope, reason: string | undefined) {
  const body: KillSwitchCommand = { scope, actor: ctx.principal.name, ...(reason === undefined ? {} : { reason }) };
  // The control service waits for every live ingress replica to acknowledge before it answers.
  return expectReply<KillSwitchReply>(KillSwitchReplySchema, await ctx.bus.request(command, body, { timeoutMs: 10_000 }), 'the kill switch');
}

type Args = Record<string, any>;

/**
 * Mutations are commands to the services that own the state (approval, control) over NATS: this
 * API never writes an event itself. The caller's token name is the voter or actor, its role the
 * voter's role.
 */
export const mutationResolvers = {
  approve: (_p: unknown, a: Args, ctx: AuditContext) => vote(ctx, a.approvalId, 'approve', a.comment),
  deny: (_p: unknown, a: Args, ctx: AuditContext) => vote(ctx, a.approvalId, 'deny', a.comment),
  engageKillSwitch: (_p: unknown, a: Args, ctx: AuditContext) => killSwitch(ctx, Commands.killSwitchEngage, scopeOf(a.scope), text('reason', a.reason, 1000, true)),
  releaseKillSwitch: (_p: unknown, a: Args, ctx: AuditContext) => killSwitch(ctx, Commands.killSwitchRelease, scopeOf(a.scope), text('reason', a.reason, 1000)),
  issueApiToken: async (_p: unknown, a: Args, ctx: AuditContext) => {
    const name = text('name', a.name, 200, true)!;
    const reply = expectReply<TokenIssueReply>(
      TokenIssueReplySchema,
      await ctx.bus.request(Commands.tokenIssue, { name, role: a.role as Role, actor: ctx.principal.name }, { timeoutMs: 5000 }),
      'the token issue',
    );
    return { tokenId: reply.tokenId, token: reply.token, role: reply.role };
  },
};
