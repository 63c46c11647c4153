/**
 * The stack the fault suite breaks: `tf up`'s stack (libs/stack) with two replicas of every
 * service, on a PostgreSQL server of its own (the suite stops and restarts it; the machine's
 * shared one is never touched), fake Stripe and GitHub APIs over HTTPS, their connectors and
 * secrets, and a run whose token the traffic uses. It can SIGKILL, stop, pause and restart any
 * process of the stack, the way a supervisor (Docker's restart policy, systemd) would restart it:
 * same command line, same environment, read from /proc before the process goes.
 */
import { spawn } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Commands, type PublishPolicyReply, type RunStartReply } from '@tameflare/contracts';
import { startPrivatePostgres, type PrivatePostgres } from '@tameflare/event-store/testing';
import type { Bus } from '@tameflare/messaging';
import { configureConnector, connectAdmin, readStackFile, REPO_ROOT, setSecret, startStack, statePaths, stopStack, type StackInfo, type StackProcess } from '@tameflare/stack';
import { startFakeUpstreams, type FakeUpstreams } from '@tameflare/stack/fake-upstreams';
import { waitFor } from '@tameflare/testing';

export const GATEWAY = 'default';

/** Reads allowed (with the Stripe key injected), repository deletions denied. */
export const FAULT_POLICY = `
version: 1
name: fault-suite
rules:
  - id: deny-repo-delete
    effect: deny
    match: { actions: [github.repo.delete] }
    reason: Repository deletion is not allowed through agents
  - id: allow-reads
    effect: allow
    match: { actions: ["**"] }
    when: action.risk == "read"
    reason: Reading is allowed
`;

/** A process of the stack as the suite manages it (its pid changes when it is restarted). */
export interface StackMember {
  readonly instanceId: string;
  readonly service: string;
  pid: number;
  readonly healthPort: number | null;
  /** What restarts it: the command line and environment it was started with. */
  readonly argv: string[];
  readonly env: Record<string, string>;
  readonly logFile: string;
}

export interface FaultStack {
  info: StackInfo;
  stateDir: string;
  pg: PrivatePostgres;
  databaseUrl: string;
  bus: Bus;
  fakes: FakeUpstreams;
  run: RunStartReply;
  /** Proxy URLs (with the run token) of the two ingress replicas. */
  proxyUrls: string[];
  caPem: string;
  member(instanceId: string): StackMember;
  /** SIGKILL: a crash, nothing flushed. */
  kill(instanceId: string): Promise<void>;
  /** SIGTERM and wait (a clean stop). */
  stop(instanceId: string): Promise<void>;
  /** Starts it again as it was started, and waits until it is ready (`/readyz`, or its port for NATS). */
  restart(instanceId: string): Promise<void>;
  pause(instanceId: string): void;
  resume(instanceId: string): void;
  dispose(): Promise<void>;
}

function readNulList(file: string): string[] {
  return readFileSync(file, 'utf8').split('\0').filter(Boolean);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function waitGone(pid: number): Promise<void> {
  await waitFor(() => !alive(pid), { timeoutMs: 20_000, intervalMs: 20, what: `pid ${pid} gone` });
}

async function ready(m: StackMember, natsPort: number): Promise<boolean> {
  if (m.service === 'nats') {
    return new Promise((resolve) => {
      const s = netConnect({ host: '127.0.0.1', port: natsPort }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
  }
  try {
    return (await fetch(`http://127.0.0.1:${m.healthPort}/readyz`, { signal: AbortSignal.timeout(1000) })).status === 200;
  } catch {
    return false;
  }
}

export async function startFaultStack(o: { replicas: number; log?: (line: string) => void }): Promise<FaultStack> {
  const log = o.log ?? (() => undefined);
  const dir = mkdtempSync(join(tmpdir(), 'tf-faults-'));
  const stateDir = join(dir, 'state');
  const pg = await startPrivatePostgres();
  const databaseUrl = pg.url.replace(/\/postgres$/, '/tameflare');
  const secrets = { stripe: `sk_test_fault_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`, github: `ghp_fault_${Math.random().toString(36).slice(2, 14)}` };
  const fakes = await startFakeUpstreams({ dir: join(dir, 'fakes'), secrets });
  const respawned = new Set<number>();
  let bus: Bus | undefined;
  let started = false;
  const members = new Map<string, StackMember>();

  const cleanup = async () => {
    await bus?.close().catch(() => undefined);
    // Processes the suite restarted are not in stack.json: stop them first, the rest as tf down does.
    for (const m of members.values()) {
      if (respawned.has(m.pid) && alive(m.pid)) {
        try {
          process.kill(m.pid, 'SIGCONT');
          process.kill(m.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    for (const m of members.values()) {
      try {
        if (alive(m.pid)) process.kill(m.pid, 'SIGCONT');
      } catch {
        // gone
      }
    }
    if (started) await stopStack({ stateDir, graceMs: 5000 }).catch(() => undefined);
    await fakes.close();
    await pg.dispose().catch(() => undefined);
    // TF_E2E_KEEP_LOGS=<dir>: keep every process's log for a post-mortem, as the tf-stack harness does.
    const logs = join(stateDir, 'logs');
    if (process.env.TF_E2E_KEEP_LOGS && existsSync(logs)) cpSync(logs, join(process.env.TF_E2E_KEEP_LOGS, `faults-${Date.now()}`), { recursive: true });
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const t0 = Date.now();
    const replicas = Object.fromEntries(['ingress', 'policy', 'vault', 'approval', 'control', 'recorder', 'projector', 'audit-api'].map((s) => [s, o.replicas]));
    const up = await startStack({
      stateDir,
      databaseUrl,
      replicas,
      env: { ingress: { TF_INGRESS_UPSTREAM_OVERRIDES: fakes.overrides, TF_INGRESS_UPSTREAM_CA_FILES: fakes.caFile } },
      actor: 'fault-suite',
      logLevel: 'warn',
      readyTimeoutMs: 180_000,
    });
    started = true;
    log(`stack up in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${up.info.processes.length} processes`);
    bus = (await connectAdmin(stateDir, { requestTimeoutMs: 30_000 })).bus;
    await setSecret(bus, { gatewayId: GATEWAY, name: 'stripe-key', value: secrets.stripe, actor: 'fault-suite' });
    await setSecret(bus, { gatewayId: GATEWAY, name: 'github-token', value: secrets.github, actor: 'fault-suite' });
    await configureConnector(bus, { gatewayId: GATEWAY, connectorId: 'stripe', kind: 'stripe', secretName: 'stripe-key', actor: 'fault-suite' });
    await configureConnector(bus, { gatewayId: GATEWAY, connectorId: 'github', kind: 'github', secretName: 'github-token', actor: 'fault-suite' });
    await bus.request<PublishPolicyReply>(Commands.policyPublish, { gatewayId: GATEWAY, source: FAULT_POLICY, fileName: 'faults.yaml', publishedBy: 'fault-suite' }, { timeoutMs: 30_000 });
    const run = await bus.request<RunStartReply>(Commands.runStart, { agentName: 'fault-agent', gatewayId: GATEWAY, command: 'fault-suite', hostname: 'e2e', pid: process.pid, startedBy: 'fault-suite' });

    const info = readStackFile(statePaths(stateDir))!;
    for (const p of info.processes as StackProcess[]) {
      members.set(p.instanceId, {
        instanceId: p.instanceId,
        service: p.service,
        pid: p.pid,
        healthPort: p.healthPort,
        argv: readNulList(`/proc/${p.pid}/cmdline`),
        env: Object.fromEntries(readNulList(`/proc/${p.pid}/environ`).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])),
        logFile: p.logFile,
      });
    }
    const natsPort = Number(new URL(info.natsUrl).port);
    const member = (id: string) => {
      const m = members.get(id);
      if (!m) throw new Error(`no process ${id} in the stack (${[...members.keys()].join(', ')})`);
      return m;
    };
    const proxyUrls = info.proxies.map((p) => `http://tf:${run.token}@${p.url.replace(/^http:\/\//, '')}`);

    return {
      info,
      stateDir,
      pg,
      databaseUrl,
      bus,
      fakes,
      run,
      proxyUrls,
      caPem: readFileSync(info.caCertFile, 'utf8'),
      member,
      async kill(id) {
        const m = member(id);
        process.kill(m.pid, 'SIGKILL');
        await waitGone(m.pid);
      },
      async stop(id) {
        const m = member(id);
        process.kill(m.pid, 'SIGTERM');
        await waitGone(m.pid);
      },
      async restart(id) {
        const m = member(id);
        if (alive(m.pid)) throw new Error(`${id} is still running (pid ${m.pid})`);
        const fd = openSync(m.logFile, 'a', 0o600);
        try {
          const child = spawn(m.argv[0]!, m.argv.slice(1), { env: m.env, cwd: REPO_ROOT, detached: true, stdio: ['ignore', fd, fd] });
          child.on('error', () => undefined);
          child.unref();
          m.pid = child.pid!;
          respawned.add(m.pid);
        } finally {
          closeSync(fd);
        }
        await waitFor(
          async () => {
            if (!alive(m.pid)) throw new Error(`${id} exited during restart`);
            return ready(m, natsPort);
          },
          { timeoutMs: 60_000, intervalMs: 100, what: `${id} ready again` },
        );
      },
      pause: (id) => process.kill(member(id).pid, 'SIGSTOP'),
      resume: (id) => process.kill(member(id).pid, 'SIGCONT'),
      dispose: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
