import { Commands, isValidName, killSwitchScopeKey, type KillSwitchReply, type KillSwitchScope } from '@tameflare/contracts';
import { flag, stringOpt } from '../args.ts';
import { CliError, ExitCode, usageError } from '../errors.ts';
import { formatMs } from '../output.ts';
import { defineCommand, type ParsedArgs } from '../registry.ts';

/** The one scope named by --all, --gateway, --agent or --connector. */
export function scopeOf(args: ParsedArgs): KillSwitchScope {
  const given: KillSwitchScope[] = [];
  if (flag(args, 'all')) given.push({ kind: 'all' });
  for (const kind of ['gateway', 'agent', 'connector'] as const) {
    const value = stringOpt(args, kind);
    if (value === undefined) continue;
    if (!isValidName(value)) {
      throw usageError(`invalid ${kind} id ${JSON.stringify(value)}: ids are lowercase letters, digits, - and _ (at most 63)`, kind === 'agent' ? 'the agent id is the name given to tf run, lowercased, e.g. my-agent' : undefined);
    }
    given.push({ kind, value });
  }
  if (args.positionals.length) throw usageError(`unexpected argument ${JSON.stringify(args.positionals[0])}`, 'name the scope with --all, --gateway G, --agent A or --connector C');
  if (given.length !== 1) {
    throw usageError(given.length ? 'choose one scope only' : 'no scope given', 'tf kill --all | --gateway G | --agent A | --connector C [--reason TEXT]');
  }
  return given[0]!;
}

const describeScope = (s: KillSwitchScope) => (s.kind === 'all' ? 'everything' : `${s.kind} ${s.value}`);

export default defineCommand({
  name: 'kill',
  summary: 'engage (or --release) the kill switch for everything, a gateway, an agent or a connector',
  usage: 'tf kill (--all | --gateway G | --agent A | --connector C) [--reason TEXT] [--release]',
  description: `
Engaging records KillSwitchEngaged and is applied by every ingress replica at once: new requests
in scope get 403 with the reason, in-flight requests, tunnels and WebSockets are cut, pending
approvals in scope are denied. The command waits for each live replica to acknowledge and
reports how long the slowest took. --release lifts it the same way.

Exit code 2 when a live replica did not acknowledge in time (the switch is recorded and in KV,
but that replica's state is unknown). A local operator command: it talks to NATS as the admin
user of the state directory (remote operators use the audit API's engageKillSwitch mutation).`,
  options: {
    all: { type: 'boolean', description: 'every request through every gateway' },
    gateway: { type: 'string', valueName: 'G', description: 'one gateway' },
    agent: { type: 'string', valueName: 'A', description: 'one agent (the id tf run derives from the name, e.g. my-agent)' },
    connector: { type: 'string', valueName: 'C', description: 'one connector (github, stripe...)' },
    reason: { type: 'string', valueName: 'TEXT', description: 'why; agents see it in the 403 body' },
    release: { type: 'boolean', description: 'lift the kill switch on that scope' },
  },
  json: true,
  examples: ['tf kill --agent my-agent --reason "refund loop"', 'tf kill --all', 'tf kill --release --agent my-agent'],
  async run(ctx, args) {
    const scope = scopeOf(args);
    const release = flag(args, 'release');
    const reason = stringOpt(args, 'reason');
    if (reason !== undefined && reason.length > 1000) throw usageError('--reason is longer than 1000 characters');
    const { bus } = await ctx.admin();
    const t0 = performance.now();
    const reply = await bus.request<KillSwitchReply>(release ? Commands.killSwitchRelease : Commands.killSwitchEngage, { scope, ...(reason ? { reason } : {}), actor: ctx.actor }, { timeoutMs: 30_000 });
    const roundTripMs = performance.now() - t0;
    const acked = reply.acknowledgements.length;
    const complete = acked >= reply.expected;
    ctx.out.result({ scope, scopeKey: killSwitchScopeKey(scope), ...reply, roundTripMs: Math.round(roundTripMs * 100) / 100 }, () => {
      const s = ctx.out.style;
      const verb = release ? 'released' : 'engaged';
      const where =
        reply.expected === 0 && acked === 0
          ? 'no ingress replica is running'
          : `took effect on ${acked}/${reply.expected} replicas${reply.tookEffectMs !== null ? ` in ${formatMs(reply.tookEffectMs)}` : ''}`;
      const line = `Kill switch ${verb} on ${describeScope(scope)}: ${where}.`;
      ctx.out.line(complete ? (release ? s.green(line) : s.red(line)) : s.yellow(line));
      for (const a of reply.acknowledgements) ctx.out.line(`  ${a.ingressId}  ${formatMs(a.latencyMs)}${a.cutConnections ? `  cut ${a.cutConnections} connection${a.cutConnections === 1 ? '' : 's'}` : ''}`);
    });
    if (!complete) {
      throw new CliError('TF_ERR_CLI_KILL_PARTIAL', `only ${acked} of ${reply.expected} live ingress replicas acknowledged the kill switch`, {
        exitCode: ExitCode.System,
        hint: 'the switch is recorded; check tf status and the ingress logs for the replicas that did not answer',
      });
    }
    return ExitCode.Ok;
  },
});
