import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  Buckets,
  Commands,
  ControlErrorCode,
  isValidName,
  type ConnectorConfigureReply,
  type ConnectorConfigureRequest,
  type ConnectorEntry,
  type ConnectorRemoveReply,
  type CredentialInjection,
  type VaultSecretListReply,
} from '@tameflare/contracts';
import type { ConnectorKind } from '@tameflare/connectors';
import { flag, stringOpt } from '../args.ts';
import { CliError, ExitCode, usageError } from '../errors.ts';
import { GATEWAY_OPTION, gatewayOf, requireGateway } from '../operator/gateway.ts';
import { refusalsAreUserErrors } from '../operator/refusals.ts';
import { defineCommand, type CommandSpec, type ParsedArgs } from '../registry.ts';

/** The connector kinds, for help and messages (a unit test keeps it equal to the library's list). */
export const KINDS = ['github', 'stripe', 'slack', 'openai', 'anthropic', 'mcp', 'http', 'webhook', 'custom'] as const;

/** The connectors library: its generated route tables load only when a command needs them. */
const connectorsLib = () => import('@tameflare/connectors');

const INJECTION_FORMS = 'bearer, basic, basic:USER, header:NAME, header:NAME:PREFIX, query:NAME or none';

/** `--injection` as a rule: `bearer`, `basic[:USER]`, `header:NAME[:PREFIX]`, `query:NAME`, `none`. */
export function parseInjection(text: string): CredentialInjection | null {
  const [kind, a, ...rest] = text.split(':');
  const b = rest.join(':');
  const bad = () => usageError(`--injection ${JSON.stringify(text.slice(0, 60))} is not an injection rule`, `use ${INJECTION_FORMS}`);
  switch (kind) {
    case 'none':
      if (a !== undefined) throw bad();
      return null;
    case 'bearer':
      if (a !== undefined) throw bad();
      return { kind: 'bearer' };
    case 'basic':
      if (rest.length) throw bad();
      return a ? { kind: 'basic', username: a } : { kind: 'basic' };
    case 'header':
      if (!a) throw bad();
      return rest.length ? { kind: 'header', name: a, prefix: b } : { kind: 'header', name: a };
    case 'query':
      if (!a || rest.length) throw bad();
      return { kind: 'query', name: a };
    default:
      throw bad();
  }
}

/**
 * `--option key=value`: true/false become booleans, `@path` the file's text (a custom
 * connector's routes or OpenAPI document), the rest stays text.
 */
function parseOptions(args: ParsedArgs, cwd: string): Record<string, string | boolean> {
  const raw = args.values.option;
  const list = Array.isArray(raw) ? (raw as string[]) : typeof raw === 'string' ? [raw] : [];
  const out: Record<string, string | boolean> = {};
  for (const item of list) {
    const i = item.indexOf('=');
    if (i <= 0) throw usageError(`--option ${JSON.stringify(item.slice(0, 60))} is not key=value`, 'e.g. --option intercept=false');
    const key = item.slice(0, i);
    const value = item.slice(i + 1);
    if (value.startsWith('@')) {
      try {
        out[key] = readFileSync(resolve(cwd, value.slice(1)), 'utf8');
      } catch (cause) {
        throw new CliError('TF_ERR_CLI_USAGE', `--option ${key}: cannot read ${value.slice(1)}: ${(cause as Error).message}`, { cause, hint: 'give key=@path of a readable file' });
      }
      continue;
    }
    out[key] = value === 'true' ? true : value === 'false' ? false : value;
  }
  return out;
}

const describeInjection = (i: CredentialInjection | null) =>
  i === null ? 'none' : i.kind === 'header' ? `header ${i.name}${i.prefix ? ` (prefix ${JSON.stringify(i.prefix)})` : ''}` : i.kind === 'query' ? `query parameter ${i.name}` : i.kind === 'basic' && i.username ? `basic (user ${i.username})` : i.kind;

const add = defineCommand({
  name: 'connector add',
  summary: 'enable a connector on a gateway, with the secret it injects',
  usage: 'tf connector add KIND [--id ID] [--gateway G] [--secret NAME] [--injection RULE] [--domain HOST]... [--option KEY=VALUE]... [--json]',
  description: `
KIND is one of ${KINDS.join(', ')}. The connector classifies requests to its
domains into actions (github.repo.delete...) and, with --secret, injects that vault secret on
allowed requests (the agent never holds it). Built-in kinds know their API domains and how their
API takes a key; --domain replaces the domains (GitHub Enterprise, a proxy), --injection the rule
(${INJECTION_FORMS}). Adding an existing id reconfigures it.
A request through a connector whose secret is not set gets 503 (nothing is forwarded) until
tf secret set NAME.`,
  options: {
    id: { type: 'string', valueName: 'ID', description: 'the connector id (default: the kind)' },
    gateway: GATEWAY_OPTION,
    secret: { type: 'string', valueName: 'NAME', description: 'the vault secret to inject on allowed requests' },
    injection: { type: 'string', valueName: 'RULE', description: `how the secret goes on the request (default: the kind's own)` },
    domain: { type: 'string', multiple: true, valueName: 'HOST', description: 'a domain the connector serves (repeatable; *.example.com allowed)' },
    option: { type: 'string', multiple: true, valueName: 'KEY=VALUE', description: 'a connector option (repeatable), e.g. routes=@file for custom connectors' },
  },
  json: true,
  examples: ['tf connector add github --secret github', 'tf connector add openai --secret openai-key', 'tf connector add http --id billing --domain billing.internal.example --secret billing --injection header:X-Api-Key'],
  async run(ctx, args) {
    const [kind, extra] = args.positionals;
    if (kind === undefined) throw usageError('tf connector add needs the connector kind', `one of ${KINDS.join(', ')}`);
    if (extra !== undefined) throw usageError(`unexpected argument ${JSON.stringify(extra.slice(0, 60))}`, 'give the domains with --domain HOST');
    if (!(KINDS as readonly string[]).includes(kind)) throw usageError(`unknown connector kind ${JSON.stringify(kind.slice(0, 40))}`, `one of ${KINDS.join(', ')}`);
    const connectorId = stringOpt(args, 'id') ?? kind;
    if (!isValidName(connectorId)) throw usageError(`invalid connector id ${JSON.stringify(connectorId.slice(0, 60))}: ids are lowercase letters, digits, - and _`);
    const secretName = stringOpt(args, 'secret') ?? null;
    if (secretName !== null && !isValidName(secretName)) throw usageError(`invalid secret name ${JSON.stringify(secretName.slice(0, 60))}: names are lowercase letters, digits, - and _`);
    const gatewayId = gatewayOf(args);
    const domainsRaw = args.values.domain;
    const domains = Array.isArray(domainsRaw) ? (domainsRaw as string[]) : [];
    const options = parseOptions(args, ctx.cwd);
    const injectionText = stringOpt(args, 'injection');

    // Checked here as the ingress will read it, so a mistake is named before anything is sent.
    const base = { gatewayId, connectorId, kind: kind as ConnectorKind, secretName, domains, options };
    const { normalizeConnector } = await connectorsLib();
    let normalized;
    try {
      normalized = normalizeConnector(injectionText === undefined ? base : { ...base, injection: parseInjection(injectionText) }, `connector ${connectorId}`);
    } catch (err) {
      if ((err as { exitCode?: number }).exitCode !== undefined) throw err;
      throw usageError((err as Error).message, 'see tf connector add --help');
    }
    if (secretName !== null && normalized.injection === null) {
      throw usageError(`a ${kind} connector has no default way to inject a secret`, `say how with --injection (${INJECTION_FORMS})`);
    }
    if (secretName === null && injectionText !== undefined && normalized.injection !== null) {
      throw usageError('--injection needs --secret: there is nothing to inject', 'add --secret NAME');
    }
    const request: ConnectorConfigureRequest = { ...base, injection: secretName === null ? null : normalized.injection, actor: ctx.actor };

    const { bus } = await ctx.admin();
    await requireGateway(bus, gatewayId);
    const reply = await bus.request<ConnectorConfigureReply>(Commands.connectorConfigure, request);
    let secretState: 'set' | 'missing' | 'unknown' | null = null;
    if (secretName !== null) {
      try {
        const secrets = await bus.request<VaultSecretListReply>(Commands.vaultSecretList, { gatewayId });
        secretState = secrets.secrets.some((s) => s.name === secretName && !s.revoked) ? 'set' : 'missing';
      } catch {
        secretState = 'unknown';
      }
    }
    const result = { ...reply, domains: normalized.domains, secretName, injection: request.injection, secretState };
    ctx.out.result(result, () => {
      ctx.out.line(ctx.out.style.green(`Connector ${connectorId} (${kind}) ${reply.created ? 'added to' : 'updated on'} gateway ${gatewayId}.`));
      ctx.out.line(`  domains    ${normalized.domains.join(', ')}`);
      ctx.out.line(`  injects    ${secretName === null ? 'nothing' : `secret ${secretName} as ${describeInjection(request.injection)}`}`);
    });
    if (secretState === 'missing') {
      ctx.out.note(ctx.out.style.yellow(`Secret ${secretName} is not set on gateway ${gatewayId}: requests through ${connectorId} get 503 until you run tf secret set ${secretName}${gatewayId === 'default' ? '' : ` --gateway ${gatewayId}`} --from-env VAR.`));
    }
    return ExitCode.Ok;
  },
});

const list = defineCommand({
  name: 'connector list',
  summary: 'list the connectors enabled on a gateway (or every gateway)',
  usage: 'tf connector list [--gateway G | --all] [--json]',
  options: { gateway: GATEWAY_OPTION, all: { type: 'boolean', description: 'every gateway' } },
  json: true,
  examples: ['tf connector list', 'tf connector list --all --json'],
  async run(ctx, args) {
    if (args.positionals.length) throw usageError(`unexpected argument ${JSON.stringify(args.positionals[0]!.slice(0, 60))}`, 'tf connector list [--gateway G | --all]');
    const all = flag(args, 'all');
    if (all && args.values.gateway !== undefined) throw usageError('give --gateway or --all, not both');
    const gatewayId = all ? null : gatewayOf(args);
    const { bus } = await ctx.admin();
    if (gatewayId) await requireGateway(bus, gatewayId);
    const watch = await bus.watchKv<ConnectorEntry>(Buckets.connectors, gatewayId ? { key: `${gatewayId}.>` } : {});
    await watch.ready;
    const entries = [...watch.values.values()];
    await watch.stop();
    const { normalizeConnector } = await connectorsLib();
    const connectors = entries
      .map((e) => {
        let domains = e.domains;
        try {
          domains = normalizeConnector(e, e.connectorId).domains;
        } catch {
          // Shown as stored; the ingress refuses it the same way and logs why.
        }
        return { ...e, effectiveDomains: domains };
      })
      .sort((a, b) => a.gatewayId.localeCompare(b.gatewayId) || a.connectorId.localeCompare(b.connectorId));
    ctx.out.result({ connectors }, () => {
      if (!connectors.length) {
        ctx.out.line(`No connectors${gatewayId ? ` on gateway ${gatewayId}` : ''}: the gateway refuses every request. Add one with tf connector add KIND --secret NAME.`);
        return;
      }
      ctx.out.table(
        ['GATEWAY', 'ID', 'KIND', 'SECRET', 'INJECTION', 'DOMAINS'],
        connectors.map((c) => [c.gatewayId, c.connectorId, c.kind, c.secretName, c.secretName ? describeInjection(c.injection) : null, c.effectiveDomains.join(', ')]),
      );
    });
    return ExitCode.Ok;
  },
});

const remove = defineCommand({
  name: 'connector remove',
  summary: 'disable a connector: its domains are refused from the next request on',
  usage: 'tf connector remove ID [--gateway G] [--json]',
  options: { gateway: GATEWAY_OPTION },
  json: true,
  examples: ['tf connector remove github'],
  async run(ctx, args) {
    const [connectorId, extra] = args.positionals;
    if (connectorId === undefined) throw usageError('tf connector remove needs the connector id', 'tf connector list shows them');
    if (extra !== undefined) throw usageError(`unexpected argument ${JSON.stringify(extra.slice(0, 60))}`, 'tf connector remove ID [--gateway G]');
    if (!isValidName(connectorId)) throw usageError(`invalid connector id ${JSON.stringify(connectorId.slice(0, 60))}`, 'tf connector list shows them');
    const gatewayId = gatewayOf(args);
    const { bus } = await ctx.admin();
    await requireGateway(bus, gatewayId);
    const reply = await refusalsAreUserErrors(bus.request<ConnectorRemoveReply>(Commands.connectorRemove, { gatewayId, connectorId, actor: ctx.actor }), {
      [ControlErrorCode.UnknownConnector]: `tf connector list --gateway ${gatewayId} shows its connectors`,
    });
    ctx.out.result(reply, () => ctx.out.line(ctx.out.style.yellow(`Connector ${connectorId} removed from gateway ${gatewayId}: requests to its domains are refused.`)));
    return ExitCode.Ok;
  },
});

/** `tf connector add|list|remove`. */
export const connectorCommands: readonly CommandSpec[] = [add, list, remove];
