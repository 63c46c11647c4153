import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Buckets, Commands, isValidName, type ConnectorEntry, type RunStartReply } from '@tameflare/contracts';
import type { Bus } from '@tameflare/messaging';
import type { StackInfo } from '@tameflare/stack/client';
import { stringOpt, flag } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { CliError, ExitCode, usageError } from '../errors.ts';
import { defineCommand } from '../registry.ts';
import { agentEnvironment } from '../run/agent-env.ts';
import { combinedCaBundle } from '../run/ca-bundle.ts';
import { filterNoProxy } from '../run/no-proxy.ts';
import { resolveCommand } from '../run/resolve-command.ts';
import { createSignalRelay, signalExitCode, spawnAgent, type AgentExit } from '../run/spawn-agent.ts';
import { printSummary, watchRunActions, type RunSummary } from '../run/summary.ts';

export interface RunAgentOptions {
  agentName: string;
  command: string;
  args: string[];
  gatewayId: string;
  /** Print the summary (default true). */
  summary?: boolean;
  /** Extra environment for the agent. */
  env?: Record<string, string>;
  /** Linux: the agent runs in a network namespace that reaches only the gateway (src/strict). */
  strict?: boolean;
}

/** Every host a gateway's connectors serve (their configured or built-in domains). */
async function governedDomains(bus: Bus, gatewayId: string): Promise<string[]> {
  const { normalizeConnector } = await import('@tameflare/connectors');
  const watch = await bus.watchKv<ConnectorEntry>(Buckets.connectors, { key: `${gatewayId}.>` });
  await watch.ready;
  const entries = [...watch.values.values()];
  await watch.stop();
  const domains: string[] = [];
  for (const e of entries) {
    try {
      domains.push(...normalizeConnector(e, e.connectorId).domains);
    } catch {
      domains.push(...e.domains);
    }
  }
  return domains;
}

/** The proxy of the first live ingress replica. */
function pickProxy(info: StackInfo, isOurProcess: (pid: number, marker: string) => boolean): string {
  for (const p of info.proxies) {
    const proc = info.processes.find((x) => x.instanceId === p.instanceId);
    if (proc && isOurProcess(proc.pid, proc.marker)) return p.url;
  }
  throw new CliError('TF_ERR_CLI_NO_INGRESS', 'no ingress replica of the stack is running', { exitCode: ExitCode.System, hint: 'check tf status; restart with tf down && tf up' });
}

/**
 * `tf run`: registers a run (the control service mints its token and records AgentRunStarted),
 * starts the agent with every outbound HTTP(S) request routed through the gateway, passes stdin,
 * stdout, stderr, signals and the exit code through, records the run's end and prints a summary.
 * Resolves with tf's exit code and the summary.
 */
export async function runAgent(ctx: CommandContext, o: RunAgentOptions): Promise<{ exitCode: number; summary: RunSummary }> {
  // Checked first: a command that does not exist starts nothing (exit 127, as a shell).
  const file = resolveCommand(o.command, { ...ctx.env, ...o.env }, ctx.cwd);
  // --strict: refused before anything is registered when this system cannot do it.
  const strict = o.strict ? await import('../strict/index.ts') : undefined;
  const strictTools = strict?.checkStrictSupport(ctx.env);
  const relay = createSignalRelay(Boolean(process.stdin.isTTY));
  ctx.onCleanup(() => relay.dispose());
  const { bus, info } = await ctx.admin();
  const { isOurProcess, statePaths } = await import('@tameflare/stack/client');
  const proxyBase = pickProxy(info, isOurProcess);
  const started = Date.now();
  const run = await bus.request<RunStartReply>(Commands.runStart, {
    agentName: o.agentName,
    gatewayId: o.gatewayId,
    command: [o.command, ...o.args].join(' ').slice(0, 500),
    hostname: hostname().slice(0, 253),
    pid: process.pid,
    startedBy: ctx.actor,
  });
  const runDir = join(statePaths(info.stateDir).runsDir, run.runId);
  let ended = false;
  const endRun = async (exitCode: number | null, signal: string | null) => {
    if (ended) return;
    ended = true;
    await bus.request(Commands.runEnd, { runId: run.runId, exitCode, signal, durationMs: Date.now() - started });
  };
  ctx.onCleanup(async () => {
    rmSync(runDir, { recursive: true, force: true });
    // A failure before the agent ran still ends the run, so its token stops working.
    await endRun(null, null).catch(() => undefined);
  });
  const actions = await watchRunActions(bus, run.gatewayId, run.runId);
  ctx.onCleanup(() => actions.stop());

  mkdirSync(runDir, { recursive: true, mode: 0o700 });
  const bundle = combinedCaBundle(info.caCertFile, ctx.env);
  const caBundleFile = join(runDir, 'ca-bundle.pem');
  writeFileSync(caBundleFile, bundle.pem, { mode: 0o600 });
  const userNoProxy = ctx.env.NO_PROXY ?? ctx.env.no_proxy;
  // The connector tables are only needed to filter a NO_PROXY the user set.
  const noProxy = userNoProxy?.trim() ? filterNoProxy(userNoProxy, await governedDomains(bus, run.gatewayId)) : { value: '', removed: [] };
  if (noProxy.removed.length) ctx.out.note(`tf: ignoring NO_PROXY entries that would bypass the gateway: ${noProxy.removed.join(', ')}`);
  const u = new URL(proxyBase);
  u.username = 'tf';
  u.password = run.token;
  const env = agentEnvironment({ ...ctx.env, ...o.env }, {
    proxyUrl: u.toString().replace(/\/$/, ''),
    caBundleFile,
    gatewayCaFile: info.caCertFile,
    noProxy: noProxy.value,
    runId: run.runId,
    agentId: run.agentId,
    gatewayId: run.gatewayId,
  });

  // A signal while the run was being set up: the agent is not started at all.
  const early = relay.early[0];
  const launch = strict && strictTools && !early ? await strict.startStrict({ runDir, proxyUrl: proxyBase, tools: strictTools, file, argv0: o.command, args: o.args, env }) : undefined;
  if (launch) ctx.onCleanup(() => launch.close());
  const exit: AgentExit = early
    ? { exitCode: null, signal: early, tfExitCode: signalExitCode(early) }
    : await spawnAgent({ ...(launch ? { file: launch.file, argv0: launch.argv0, args: launch.args, env: launch.env } : { file, argv0: o.command, args: o.args, env }), cwd: ctx.cwd, relay });
  const durationMs = Date.now() - started;
  await actions.settle(1500);
  await endRun(exit.exitCode, exit.signal);
  const summary = actions.summary({ runId: run.runId, agentId: run.agentId, gatewayId: run.gatewayId, exitCode: exit.exitCode, signal: exit.signal, durationMs });
  if (o.summary !== false) {
    if (ctx.json) ctx.out.note(JSON.stringify({ summary }));
    else printSummary(ctx.out, summary, o.agentName);
  }
  return { exitCode: exit.tfExitCode, summary };
}

export default defineCommand({
  name: 'run',
  summary: 'run an agent with every outbound HTTP(S) request governed by the gateway',
  usage: 'tf run [--gateway G] [--quiet] [--strict] -- NAME CMD [ARGS...]    or    tf run --name NAME -- CMD [ARGS...]',
  passThrough: true,
  description: `
Registers an agent run (its token is recorded only as a hash) and starts CMD with HTTP_PROXY,
HTTPS_PROXY (both cases) pointing at the gateway, one CA bundle (system roots plus the gateway
CA) for SSL_CERT_FILE, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE and GIT_SSL_CAINFO, the gateway CA in
NODE_EXTRA_CA_CERTS, NODE_USE_ENV_PROXY=1 plus a preload for older Node, and a Python shim for
aiohttp: curl, Python (urllib, requests, httpx, aiohttp) and Node (fetch, http, axios, got and the
SDKs on them) are governed with no code change. NO_PROXY entries that would let a governed host
bypass the gateway are dropped.

stdin, stdout and stderr are the agent's; signals are passed on; tf exits with the agent's exit
code (128+n when a signal ended it, 127 when CMD does not exist). A summary goes to stderr at the
end (--json: one JSON line; --quiet: none). Everything before NAME belongs to tf, everything after
NAME (or after -- with --name) to the agent.`,
  options: {
    name: { type: 'string', valueName: 'NAME', description: 'the agent name (instead of the first argument)' },
    gateway: { type: 'string', valueName: 'G', description: 'the gateway whose policy governs the run (default "default")' },
    quiet: { type: 'boolean', short: 'q', description: 'no summary at the end' },
    strict: { type: 'boolean', description: 'Linux: run the agent in a network namespace whose only reachable address is the gateway, so a client that ignores the proxy variables fails (needs root or user namespaces; docs/security.md)' },
  },
  json: true,
  examples: ['tf run -- my-agent python agent.py', 'tf run --name support-bot --gateway staging -- node bot.js --verbose', 'echo "question" | tf run -- my-agent ./agent.sh'],
  async run(ctx, args) {
    const positionals = [...args.positionals];
    const agentName = stringOpt(args, 'name') ?? positionals.shift();
    if (!agentName) throw usageError('no agent name and no command given', 'tf run -- my-agent python agent.py');
    if (agentName.trim() === '' || agentName.length > 200) throw usageError('the agent name must be 1 to 200 characters');
    const command = positionals.shift();
    if (!command) throw usageError(`no command to run for agent "${agentName}"`, `tf run -- ${/\s/.test(agentName) ? JSON.stringify(agentName) : agentName} python agent.py`);
    const gatewayId = stringOpt(args, 'gateway') ?? 'default';
    if (!isValidName(gatewayId)) throw usageError(`invalid gateway id ${JSON.stringify(gatewayId)}`, 'gateway ids are lowercase letters, digits, - and _');
    const r = await runAgent(ctx, { agentName, command, args: positionals, gatewayId, summary: !flag(args, 'quiet'), strict: flag(args, 'strict') });
    return r.exitCode;
  },
});
