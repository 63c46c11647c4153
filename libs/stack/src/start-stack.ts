import { rmSync } from 'node:fs';
import { acquireLock } from './lock.ts';
import { join } from 'node:path';
import type { NatsUser } from '@tameflare/contracts';
import type { Bus } from '@tameflare/messaging';
import { bootstrapStack } from './bootstrap.ts';
import { ensureBuilt } from './build-prerequisites.ts';
import { localActor } from './local-actor.ts';
import { defaultDatabaseUrl, ensureDatabase, migrateDatabase } from './database.ts';
import { StackError, StackErrorCode } from './errors.ts';
import { connectAs, natsServerBinary, startNatsServer } from './nats.ts';
import { pickPort } from './ports.ts';
import { isOurProcess, logTail, readiness, spawnDetached, stopProcess } from './processes.ts';
import { ensureMasterKey, loadOrCreateNatsPasswords } from './secrets.ts';
import { REPO_ROOT, SERVICE_NAMES, serviceEnv, serviceMain, type InstancePlan, type ServiceName } from './services.ts';
import { readStackFile, redactUrl, writeStackFile, type StackInfo, type StackProcess } from './stack-file.ts';
import { ensurePrivateDir, resolveStateDir, statePaths, type StatePaths } from './state-dir.ts';

/** A step of `startStack`, for a progress line. */
export interface StackProgress {
  step: 'build' | 'nats' | 'database' | 'streams' | 'services' | 'bootstrap' | 'ready';
  message: string;
  /** Instances ready so far, during `services`. */
  ready?: number;
  total?: number;
}

export interface StartStackOptions {
  /** Default `TF_STATE_DIR` or `~/.tameflare`. */
  stateDir?: string;
  /** Default `TF_DATABASE_URL` or `postgres://postgres@127.0.0.1:5432/tameflare`. */
  databaseUrl?: string;
  natsBin?: string;
  /** The Node binary that runs the services (default: this one). */
  nodeBin?: string;
  /** Ports that must be used (an error when taken). */
  ports?: { nats?: number; proxy?: number[]; graphql?: number };
  /** Ports tried first, any free port otherwise (what `tf up` uses for stable addresses). */
  preferredPorts?: { nats?: number; proxy?: number; graphql?: number };
  /** Instances per service (default 1). Each ingress replica gets its own port and instance id. */
  replicas?: Partial<Record<ServiceName, number>>;
  /** Extra environment per service (e.g. `TF_INGRESS_UPSTREAM_OVERRIDES`). */
  env?: Partial<Record<ServiceName, Record<string, string>>>;
  logLevel?: string;
  /** Longest wait for every /readyz (default 90 s). */
  readyTimeoutMs?: number;
  gatewayId?: string;
  /** The policy applied to the default gateway on first start (default infra/policies/default.yaml). */
  policyFile?: string;
  /** Recorded as the actor of first-start events (default `tf-up:<user>@<host>`). */
  actor?: string;
  onProgress?: (p: StackProgress) => void;
}

export interface StartStackResult {
  info: StackInfo;
  /** True when a healthy stack was already running in the state directory (nothing was started). */
  alreadyRunning: boolean;
  /** True when this start created the database. */
  createdDatabase: boolean;
  durationMs: number;
}

/**
 * Brings a local stack up in a state directory: a private nats-server with the permission
 * matrix, the database and its migrations, streams and KV buckets, the vault master key, every
 * service as its own process (`node services/<name>/src/main.ts`) as its own NATS user, each
 * waited for on `/readyz`, then the default gateway, the default policy and a bootstrap admin API
 * token on first start. Writes `<state>/stack.json` as it goes, so `tf down` can stop whatever
 * was started even if this call fails; on failure it stops everything it started itself.
 *
 * Running it again while the stack is healthy changes nothing (`alreadyRunning`).
 */
export async function startStack(options: StartStackOptions = {}): Promise<StartStackResult> {
  const t0 = performance.now();
  const stateDir = resolveStateDir(options.stateDir);
  const paths = statePaths(stateDir);
  ensurePrivateDir(paths.root);
  ensurePrivateDir(paths.logsDir);
  const release = acquireLock(paths);
  try {
    const existing = readStackFile(paths);
    if (existing) {
      const alive = existing.processes.filter((p) => isOurProcess(p.pid, p.marker));
      if (alive.length === existing.processes.length && alive.length > 0) {
        return { info: existing, alreadyRunning: true, createdDatabase: false, durationMs: performance.now() - t0 };
      }
      // A partial stack (a crash, a reboot): stop what is left, then start afresh.
      await Promise.all(alive.map((p) => stopProcess(p.pid, p.marker, 5000)));
      rmSync(paths.stackFile, { force: true });
    }
    return await startFresh(options, paths, t0);
  } finally {
    release();
  }
}

async function startFresh(options: StartStackOptions, paths: StatePaths, t0: number): Promise<StartStackResult> {
  const progress = options.onProgress ?? (() => undefined);
  const databaseUrl = options.databaseUrl ?? defaultDatabaseUrl();
  const nodeBin = options.nodeBin ?? process.execPath;
  const logLevel = options.logLevel ?? 'info';
  const gatewayId = options.gatewayId ?? 'default';
  const replicas = (s: ServiceName) => Math.max(1, options.replicas?.[s] ?? 1);
  const taken = new Set<number>();

  const natsPort = await pickPort('NATS', taken, options.ports?.nats, options.preferredPorts?.nats);
  const plans: InstancePlan[] = [];
  for (const service of SERVICE_NAMES) {
    for (let i = 1; i <= replicas(service); i++) {
      const plan: InstancePlan = { service, instanceId: `${service}-${i}`, natsUser: service as NatsUser, healthPort: await pickPort(`${service}-${i} health`, taken) };
      if (service === 'ingress') plan.proxyPort = await pickPort(`ingress-${i} proxy`, taken, options.ports?.proxy?.[i - 1], i === 1 ? options.preferredPorts?.proxy : undefined);
      if (service === 'audit-api') plan.httpPort = await pickPort('GraphQL', taken, i === 1 ? options.ports?.graphql : undefined, i === 1 ? options.preferredPorts?.graphql : undefined);
      plans.push(plan);
    }
  }

  const natsUrl = `nats://127.0.0.1:${natsPort}`;
  const graphql = plans.find((p) => p.service === 'audit-api')!;
  const info: StackInfo = {
    version: 1,
    stateDir: paths.root,
    startedAt: new Date().toISOString(),
    natsUrl,
    database: redactUrl(databaseUrl),
    processes: [],
    proxies: plans.filter((p) => p.service === 'ingress').map((p) => ({ instanceId: p.instanceId, url: `http://127.0.0.1:${p.proxyPort}` })),
    graphqlUrl: `http://127.0.0.1:${graphql.httpPort}/graphql`,
    caCertFile: paths.caCert,
    defaultGateway: gatewayId,
  };
  const started: StackProcess[] = [];
  const record = (p: StackProcess) => {
    started.push(p);
    info.processes = [...started];
    writeStackFile(paths, info);
  };
  let bus: Bus | undefined;
  try {
    await ensureBuilt({ nodeBin, logFile: join(paths.logsDir, 'build.log'), onBuild: (message) => progress({ step: 'build', message }) });
    progress({ step: 'nats', message: `starting nats-server on port ${natsPort}` });
    const passwords = loadOrCreateNatsPasswords(paths);
    const natsLog = join(paths.logsDir, 'nats.log');
    const natsPid = await startNatsServer({ paths, port: natsPort, passwords, bin: options.natsBin ?? natsServerBinary(), logFile: natsLog });
    record({ service: 'nats', instanceId: 'nats', pid: natsPid, marker: paths.natsConfig, healthPort: null, logFile: natsLog, port: natsPort });

    progress({ step: 'streams', message: 'creating streams and KV buckets' });
    bus = await connectWithRetry(natsUrl, passwords);
    await bus.ensureStreams();
    await bus.ensureBuckets();

    progress({ step: 'database', message: `preparing database ${redactUrl(databaseUrl)}` });
    const createdDatabase = await ensureDatabase(databaseUrl);
    await migrateDatabase(databaseUrl);
    ensureMasterKey(paths);
    ensurePrivateDir(paths.ingressDir);
    ensurePrivateDir(paths.projectorDir);

    const spawnPlan = (plan: InstancePlan) => {
      const main = serviceMain(plan.service);
      const logFile = join(paths.logsDir, `${plan.instanceId}.log`);
      const env = serviceEnv(plan, { paths, databaseUrl, natsUrl, password: passwords[plan.natsUser], logLevel }, options.env?.[plan.service]);
      const pid = spawnDetached({ command: nodeBin, args: [main], env, logFile, cwd: REPO_ROOT });
      const proc: StackProcess = { service: plan.service, instanceId: plan.instanceId, pid, marker: main, healthPort: plan.healthPort, logFile, port: plan.proxyPort ?? plan.httpPort ?? null };
      record(proc);
      return proc;
    };
    // The first ingress creates the interception CA; further replicas start once it exists.
    const first = plans.filter((p) => p.service !== 'ingress' || p.instanceId === 'ingress-1');
    const later = plans.filter((p) => !first.includes(p));
    let ready = 0;
    const total = plans.length;
    const readyTimeoutMs = options.readyTimeoutMs ?? 90_000;
    const waitAll = async (procs: StackProcess[]) => {
      await Promise.all(
        procs.map(async (p) => {
          await waitReady(p, readyTimeoutMs);
          ready++;
          progress({ step: 'services', message: `${p.instanceId} ready`, ready, total });
        }),
      );
    };
    progress({ step: 'services', message: `starting ${total} service processes`, ready, total });
    await waitAll(first.map(spawnPlan));
    if (later.length) await waitAll(later.map(spawnPlan));

    progress({ step: 'bootstrap', message: 'default gateway, policy and admin API token' });
    await bootstrapStack({
      bus,
      paths,
      gatewayId,
      policyFile: options.policyFile ?? join(REPO_ROOT, 'infra', 'policies', 'default.yaml'),
      actor: options.actor ?? localActor('tf-up'),
    });
    writeStackFile(paths, info);
    const durationMs = performance.now() - t0;
    progress({ step: 'ready', message: `stack ready in ${(durationMs / 1000).toFixed(1)} s` });
    return { info, alreadyRunning: false, createdDatabase, durationMs };
  } catch (err) {
    await bus?.close().catch(() => undefined);
    bus = undefined;
    // Services first, NATS last, so nothing logs a lost connection on its way down.
    await Promise.all(started.filter((p) => p.service !== 'nats').map((p) => stopProcess(p.pid, p.marker, 5000)));
    await Promise.all(started.filter((p) => p.service === 'nats').map((p) => stopProcess(p.pid, p.marker, 5000)));
    rmSync(paths.stackFile, { force: true });
    throw err;
  } finally {
    await bus?.close().catch(() => undefined);
  }
}

async function connectWithRetry(natsUrl: string, passwords: Record<NatsUser, string>): Promise<Bus> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const bus = await connectAs(natsUrl, passwords, 'admin', { name: 'tf-up' });
      // JetStream answers only once the server has recovered its store.
      await bus.ensureStreams();
      return bus;
    } catch (err) {
      if (Date.now() > deadline) {
        throw new StackError(StackErrorCode.StartFailed, `nats-server does not accept the admin user: ${(err as Error).message}`, { cause: err, details: { service: 'nats' } });
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function waitReady(p: StackProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'starting';
  while (Date.now() < deadline) {
    if (!isOurProcess(p.pid, p.marker)) {
      throw new StackError(StackErrorCode.StartFailed, `${p.instanceId} exited during start: ${lastLines(p.logFile)}`, {
        details: { service: p.service, instanceId: p.instanceId, logFile: p.logFile },
        hint: `see ${p.logFile}`,
      });
    }
    const r = await readiness(p.healthPort!);
    if (r.ready) return;
    last = r.detail;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new StackError(StackErrorCode.StartFailed, `${p.instanceId} was not ready after ${Math.round(timeoutMs / 1000)} s (${last})`, {
    details: { service: p.service, instanceId: p.instanceId, logFile: p.logFile },
    hint: `see ${p.logFile}`,
  });
}

/** The last meaningful log line(s), with pino's JSON reduced to its message. */
function lastLines(logFile: string): string {
  const lines = logTail(logFile, 4000).split('\n').filter(Boolean);
  const msgs = lines.slice(-3).map((l) => {
    try {
      const o = JSON.parse(l) as { msg?: string; err?: { message?: string } };
      return [o.msg, o.err?.message].filter(Boolean).join(': ');
    } catch {
      return l;
    }
  });
  return msgs.join(' | ') || '(no output)';
}

