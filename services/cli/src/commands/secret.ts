import {
  Commands,
  isValidName,
  type VaultMasterKeyRotateReply,
  type VaultPublicKeyReply,
  type VaultSecretListReply,
  type VaultSecretPutReply,
  type VaultSecretRevokeReply,
} from '@tameflare/contracts';
import { sealSecretValue } from '@tameflare/vault-crypto';
import { flag } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { ExitCode, usageError } from '../errors.ts';
import { GATEWAY_OPTION, gatewayOf, requireGateway } from '../operator/gateway.ts';
import { refusalsAreUserErrors } from '../operator/refusals.ts';
import { readSecretValue, SECRET_SOURCE_OPTIONS } from '../operator/secret-value.ts';
import { defineCommand, type CommandSpec, type ParsedArgs } from '../registry.ts';

/** Refusals of the vault that the user can fix. */
const VAULT_REFUSALS = {
  TF_ERR_VAULT_SECRET_INVALID: 'a secret is 8 bytes to 16 KiB of text on one line',
  TF_ERR_VAULT_SECRET_TOO_LARGE: 'a secret is at most 16 KiB',
} as const;

/** The NAME argument: a secret name as connectors reference it. */
function secretNameOf(args: ParsedArgs, command: string): string {
  const name = args.positionals[0];
  if (name === undefined) throw usageError(`tf secret ${command} needs the secret's name`, `tf secret ${command} NAME${command === 'set' || command === 'rotate' ? ' --from-env VAR' : ''}`);
  if (!isValidName(name)) {
    // Never echo it: someone may have typed the value where the name goes.
    throw usageError('the secret name must be lowercase letters, digits, - and _ (at most 63)', 'e.g. tf secret set github --from-env GITHUB_TOKEN');
  }
  return name;
}

/**
 * `set` and `rotate`: reads the value from its source, seals it to the vault's transport key
 * with the gateway and name bound in (so the box cannot be stored under another name), and sends
 * it; the value never crosses NATS in clear and is zeroed here once sealed.
 */
async function putSecret(ctx: CommandContext, args: ParsedArgs, mode: 'set' | 'rotate'): Promise<number> {
  const name = secretNameOf(args, mode);
  const gatewayId = gatewayOf(args);
  const secret = await readSecretValue(args, { env: ctx.env, cwd: ctx.cwd, stdin: process.stdin });
  const byteLength = secret.value.length;
  let reply: VaultSecretPutReply;
  try {
    const { bus } = await ctx.admin();
    await requireGateway(bus, gatewayId);
    const key = await bus.request<VaultPublicKeyReply>(Commands.vaultPublicKey, {});
    const box = sealSecretValue(secret.value, key.publicKey, { gatewayId, name });
    secret.value.fill(0);
    reply = await refusalsAreUserErrors(
      bus.request<VaultSecretPutReply>(Commands.vaultSecretPut, { gatewayId, name, box, source: secret.source, actor: ctx.actor, mode }, { timeoutMs: 15_000 }),
      { ...VAULT_REFUSALS, TF_ERR_VAULT_SECRET_MISSING: `it is not set on gateway ${gatewayId} (or was revoked): store it with tf secret set ${name}` },
    );
  } finally {
    secret.value.fill(0);
  }
  const result = { ...reply, gatewayId, byteLength, source: secret.source };
  ctx.out.result(result, () => {
    const verb = reply.version === 1 ? 'stored' : mode === 'rotate' ? 'rotated' : 'stored';
    ctx.out.line(ctx.out.style.green(`Secret ${name} ${verb} on gateway ${gatewayId}: version ${reply.version} (${byteLength} bytes, from ${secret.origin}).`));
    if (reply.version > 1) ctx.out.line('  Every gateway replica injects the new version from the next request on.');
  });
  return ExitCode.Ok;
}

const sourceUsage = '(--from-env VAR | --from-file PATH | --stdin)';

const set = defineCommand({
  name: 'secret set',
  summary: 'store a credential in the vault (never from a command-line argument)',
  usage: `tf secret set NAME [--gateway G] ${sourceUsage} [--json]`,
  description: `
The value comes from an environment variable, a file or standard input, never from the command
line (it would stay in the shell history and be visible in ps). It is sealed to the vault's
public key on this machine, so it crosses NATS only encrypted, and stored encrypted at rest.
Setting a name that exists stores a new version. Connectors name the secret they inject
(tf connector add github --secret NAME).`,
  options: { gateway: GATEWAY_OPTION, ...SECRET_SOURCE_OPTIONS },
  json: true,
  examples: ['tf secret set github --from-env GITHUB_TOKEN', 'tf secret set stripe --from-file ~/.secrets/stripe.key', "pass show stripe | tf secret set stripe --stdin"],
  run: (ctx, args) => putSecret(ctx, args, 'set'),
});

const rotate = defineCommand({
  name: 'secret rotate',
  summary: 'store a new version of an existing secret (refused if it is not set)',
  usage: `tf secret rotate NAME [--gateway G] ${sourceUsage} [--json]`,
  description: `
As tf secret set, but refused when the secret is not set (or was revoked), so a typo in the name
never creates a new secret. The next request through any replica gets the new version.`,
  options: { gateway: GATEWAY_OPTION, ...SECRET_SOURCE_OPTIONS },
  json: true,
  examples: ['tf secret rotate github --from-env NEW_GITHUB_TOKEN'],
  run: (ctx, args) => putSecret(ctx, args, 'rotate'),
});

const list = defineCommand({
  name: 'secret list',
  summary: 'list secrets: names, versions, sizes and times, never values',
  usage: 'tf secret list [--gateway G | --all] [--revoked] [--json]',
  options: {
    gateway: GATEWAY_OPTION,
    all: { type: 'boolean', description: 'every gateway' },
    revoked: { type: 'boolean', description: 'include revoked secrets' },
  },
  json: true,
  examples: ['tf secret list', 'tf secret list --all --revoked --json'],
  async run(ctx, args) {
    if (args.positionals.length) throw usageError(`unexpected argument ${JSON.stringify(args.positionals[0]!.slice(0, 60))}`, 'tf secret list [--gateway G | --all]');
    const all = flag(args, 'all');
    if (all && args.values.gateway !== undefined) throw usageError('give --gateway or --all, not both');
    const gatewayId = all ? undefined : gatewayOf(args);
    const { bus } = await ctx.admin();
    if (gatewayId) await requireGateway(bus, gatewayId);
    const reply = await bus.request<VaultSecretListReply>(Commands.vaultSecretList, { ...(gatewayId ? { gatewayId } : {}), includeRevoked: flag(args, 'revoked') });
    ctx.out.result(reply, () => {
      if (!reply.secrets.length) {
        ctx.out.line(`No secrets${gatewayId ? ` on gateway ${gatewayId}` : ''}. Store one with tf secret set NAME --from-env VAR.`);
        return;
      }
      ctx.out.table(
        ['NAME', 'GATEWAY', 'VERSION', 'BYTES', 'UPDATED', 'STATE'],
        reply.secrets.map((s) => [s.name, s.gatewayId, s.version, s.byteLength, s.updatedAt, s.revoked ? ctx.out.style.red('revoked') : 'active']),
      );
    });
    return ExitCode.Ok;
  },
});

const revoke = defineCommand({
  name: 'secret revoke',
  summary: 'stop releasing a secret: requests that need it get 503 and are not forwarded',
  usage: 'tf secret revoke NAME [--gateway G] [--json]',
  description: `
No version of the secret is released any more, from the next request on, on every replica;
requests through a connector that injects it are answered 503 and not forwarded. The versions
stay encrypted at rest for the record. tf secret set NAME stores a new value again.`,
  options: { gateway: GATEWAY_OPTION },
  json: true,
  examples: ['tf secret revoke github'],
  async run(ctx, args) {
    const name = secretNameOf(args, 'revoke');
    if (args.positionals.length > 1) throw usageError(`unexpected argument after the secret name`, 'tf secret revoke NAME [--gateway G]');
    const gatewayId = gatewayOf(args);
    const { bus } = await ctx.admin();
    await requireGateway(bus, gatewayId);
    const reply = await refusalsAreUserErrors(
      bus.request<VaultSecretRevokeReply>(Commands.vaultSecretRevoke, { gatewayId, name, actor: ctx.actor }),
      { TF_ERR_VAULT_SECRET_MISSING: `tf secret list --gateway ${gatewayId} shows its secrets` },
    );
    ctx.out.result({ ...reply, gatewayId }, () => ctx.out.line(ctx.out.style.yellow(`Secret ${name} revoked on gateway ${gatewayId}: it is no longer released.`)));
    return ExitCode.Ok;
  },
});

const rotateMasterKey = defineCommand({
  name: 'secret rotate-master-key',
  summary: 're-wrap every data key under the current vault master key',
  usage: 'tf secret rotate-master-key [--json]',
  description: `
Step 2 of a master key rotation (docs/vault.md): first restart the vault with the new key as
TF_VAULT_MASTER_KEY and the old one in TF_VAULT_PREVIOUS_MASTER_KEYS; this command then re-wraps,
in one transaction, every data key still under a previous key (secret values are never
decrypted) and records MasterKeyRotated; finally restart the vault without the previous key.`,
  json: true,
  examples: ['tf secret rotate-master-key'],
  async run(ctx, args) {
    if (args.positionals.length) throw usageError(`unexpected argument ${JSON.stringify(args.positionals[0]!.slice(0, 60))}`, 'tf secret rotate-master-key takes no arguments');
    const { bus } = await ctx.admin();
    const reply = await refusalsAreUserErrors(
      bus.request<VaultMasterKeyRotateReply>(Commands.vaultMasterKeyRotate, { actor: ctx.actor }, { timeoutMs: 120_000 }),
      { TF_ERR_VAULT_MASTER_KEY_UNKNOWN: 'start the vault with the old key in TF_VAULT_PREVIOUS_MASTER_KEYS (or _FILES), then run this again; nothing was changed' },
    );
    ctx.out.result(reply, () => {
      if (reply.rewrappedDataKeys === 0) {
        ctx.out.line(`Nothing to re-wrap: every data key is under the current master key ${reply.masterKeyId}.`);
        return;
      }
      ctx.out.line(ctx.out.style.green(`Re-wrapped ${reply.rewrappedDataKeys} data key${reply.rewrappedDataKeys === 1 ? '' : 's'} under master key ${reply.masterKeyId}.`));
      ctx.out.line(`  Previous keys ${reply.previousMasterKeyIds.join(', ')} wrap nothing now: restart the vault without TF_VAULT_PREVIOUS_MASTER_KEYS.`);
    });
    return ExitCode.Ok;
  },
});

/** `tf secret set|list|rotate|revoke|rotate-master-key`. */
export const secretCommands: readonly CommandSpec[] = [set, list, rotate, revoke, rotateMasterKey];
