import { Buckets, Commands, ControlErrorCode, type ApiTokenEntry, type Role, type TokenIssueReply, type TokenRevokeReply } from '@tameflare/contracts';
import { stringOpt } from '../args.ts';
import { ExitCode, usageError } from '../errors.ts';
import { refusalsAreUserErrors } from '../operator/refusals.ts';
import { defineCommand, type CommandSpec } from '../registry.ts';

const ROLES: readonly Role[] = ['viewer', 'approver', 'admin'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const create = defineCommand({
  name: 'token create',
  summary: 'issue an API token for the audit API (GraphQL, dashboard, tf approvals)',
  usage: 'tf token create NAME --role viewer|approver|admin [--json]',
  description: `
The token is printed once and never again: only its SHA-256 is recorded (ApiTokenIssued) and
kept. NAME is who the token stands for: votes cast with it are recorded under that name. Roles:
viewer reads, approver also votes on approvals, admin also engages the kill switch and issues
tokens. A local operator command (NATS as admin).`,
  options: { role: { type: 'string', valueName: 'ROLE', description: 'viewer, approver or admin' } },
  json: true,
  examples: ['tf token create alice --role approver', 'export TF_API_TOKEN=$(tf token create ci --role viewer --json | jq -r .token)'],
  async run(ctx, args) {
    const [name, extra] = args.positionals;
    if (name === undefined || !name.trim()) throw usageError('tf token create needs the name of who the token is for', 'tf token create alice --role approver');
    if (extra !== undefined) throw usageError(`unexpected argument ${JSON.stringify(extra.slice(0, 60))}`, 'quote a name with spaces');
    if (name.length > 200) throw usageError('the token name is longer than 200 characters');
    const role = stringOpt(args, 'role');
    if (role === undefined) throw usageError('tf token create needs --role', `one of ${ROLES.join(', ')}`);
    if (!(ROLES as readonly string[]).includes(role)) throw usageError(`--role ${JSON.stringify(role.slice(0, 40))} is not a role`, `one of ${ROLES.join(', ')}`);
    const { bus } = await ctx.admin();
    const reply = await bus.request<TokenIssueReply>(Commands.tokenIssue, { name, role, actor: ctx.actor });
    ctx.out.result({ ...reply, name }, () => {
      ctx.out.line(`API token for ${name} (${reply.role}), id ${reply.tokenId}:`);
      ctx.out.line(reply.token);
      ctx.out.note(ctx.out.style.yellow('Shown once: store it now (e.g. as TF_API_TOKEN). Revoke it with tf token revoke ' + reply.tokenId));
    });
    return ExitCode.Ok;
  },
});

const list = defineCommand({
  name: 'token list',
  summary: 'list the live API tokens: id, name, role, issue time (never the token)',
  usage: 'tf token list [--json]',
  json: true,
  async run(ctx, args) {
    if (args.positionals.length) throw usageError(`unexpected argument ${JSON.stringify(args.positionals[0]!.slice(0, 60))}`, 'tf token list takes no arguments');
    const { bus } = await ctx.admin();
    const watch = await bus.watchKv<ApiTokenEntry>(Buckets.apiTokens);
    await watch.ready;
    const tokens = [...watch.values.values()].sort((a, b) => a.issuedAt.localeCompare(b.issuedAt));
    await watch.stop();
    ctx.out.result({ tokens }, () => {
      if (!tokens.length) {
        ctx.out.line('No live API tokens. Issue one with tf token create NAME --role ROLE.');
        return;
      }
      ctx.out.table(['ID', 'NAME', 'ROLE', 'ISSUED'], tokens.map((t) => [t.tokenId, t.name, t.role, t.issuedAt]));
    });
    return ExitCode.Ok;
  },
});

const revoke = defineCommand({
  name: 'token revoke',
  summary: 'revoke an API token: the audit API refuses it from the next request on',
  usage: 'tf token revoke TOKEN_ID [--json]',
  json: true,
  examples: ['tf token revoke 0192f0c4-...'],
  async run(ctx, args) {
    const [tokenId, extra] = args.positionals;
    if (tokenId === undefined) throw usageError('tf token revoke needs the token id', 'tf token list shows the ids');
    if (extra !== undefined) throw usageError(`unexpected argument ${JSON.stringify(extra.slice(0, 60))}`, 'tf token revoke TOKEN_ID');
    if (!UUID.test(tokenId)) {
      // Someone may paste the token itself: say so without repeating it.
      throw usageError(tokenId.startsWith('tfa_') ? 'that is a token, not a token id' : 'the token id is a UUID', 'tf token list shows the ids');
    }
    const { bus } = await ctx.admin();
    const reply = await refusalsAreUserErrors(bus.request<TokenRevokeReply>(Commands.tokenRevoke, { tokenId, actor: ctx.actor }), {
      [ControlErrorCode.UnknownToken]: 'tf token list shows the live tokens',
    });
    ctx.out.result(reply, () => ctx.out.line(ctx.out.style.yellow(`API token ${reply.tokenId} (${reply.name}, ${reply.role}) revoked.`)));
    return ExitCode.Ok;
  },
});

/** `tf token create|list|revoke`. */
export const tokenCommands: readonly CommandSpec[] = [create, list, revoke];
