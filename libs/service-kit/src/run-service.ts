import { hostname } from 'node:os';
import { Type, type Static, type TObject } from '@sinclair/typebox';
import { inboxPrefixFor, isTameFlareError, natsUsers, type NatsUser } from '@tameflare/contracts';
import { ConfigError, loadConfig, ServiceConfigSchema } from '@tameflare/config';
import { connectBus, type Bus } from '@tameflare/messaging';
import { createLogger, initTelemetry, type Logger, type Telemetry } from '@tameflare/telemetry';
import { startHealthServer, type ReadinessReport } from './health-server.ts';

/** The base settings every service gets, merged with the service's own schema. */
export type BaseConfig = Static<typeof ServiceConfigSchema>;

/** What a service's `start` receives. */
export interface ServiceContext<C> {
  readonly name: string;
  readonly instanceId: string;
  readonly config: C;
  readonly logger: Logger;
  readonly telemetry: Telemetry;
  readonly bus: Bus;
  /** Aborted when shutdown begins: stop accepting new work. */
  readonly signal: AbortSignal;
  /** The service's own readiness (ANDed with the NATS connection). Ready by default once `start` resolves. */
  setReady(ready: boolean, reason?: string): void;
  /** Counts work outside NATS handlers (an HTTP request, a tunnel) so shutdown waits for it. */
  track<T>(work: Promise<T>): Promise<T>;
  /** Runs during shutdown after in-flight work finished (or timed out), in reverse order of registration. */
  onShutdown(fn: () => Promise<void> | void): void;
}

/** What `start` may return: a hook to stop taking new work (close listeners), run first at shutdown. */
export interface ServiceHandle {
  stopAccepting?(): Promise<void> | void;
}

export interface RunServiceOptions<S extends TObject> {
  name: string;
  /** The service's own settings; the base (NATS, health, instance id, log level) is added. */
  configSchema?: S;
  start(ctx: ServiceContext<Static<S> & BaseConfig>): Promise<ServiceHandle | void> | ServiceHandle | void;
  /** How long in-flight work may take to finish after a signal (ms, default 10 s). */
  shutdownTimeoutMs?: number;
  env?: Record<string, string | undefined>;
  /** For tests: instead of exiting, report the exit code. */
  exit?: (code: number) => void;
}

export const ServiceExitCode = {
  Ok: 0,
  /** Bad configuration: nothing was started. */
  Config: 1,
  /** Could not start (NATS unreachable, start() failed), or shutdown abandoned work. */
  Failed: 2,
} as const;

/**
 * The skeleton every TameFlare service follows:
 *
 * 1. load config (a bad value prints one message naming every bad variable and exits 1, with
 *    nothing started);
 * 2. telemetry, logger, NATS connection, `/healthz` + `/readyz`;
 * 3. `start(ctx)`;
 * 4. on SIGTERM/SIGINT: readiness false, stop listening (NATS and the service's own listeners),
 *    finish in-flight work within `shutdownTimeoutMs`, run shutdown hooks, drain NATS, close the
 *    health server, flush telemetry, exit 0. A second signal exits at once.
 */
export async function runService<S extends TObject>(options: RunServiceOptions<S>): Promise<void> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const env = options.env ?? process.env;
  const schema = Type.Object({ ...ServiceConfigSchema.properties, ...(options.configSchema?.properties ?? {}) });

  let config: Static<S> & BaseConfig;
  try {
    config = loadConfig(schema, { env }) as Static<S> & BaseConfig;
  } catch (err) {
    const text = err instanceof ConfigError || isTameFlareError(err) ? err.message : String(err);
    process.stderr.write(`${options.name}: ${text}\n`);
    exit(ServiceExitCode.Config);
    return;
  }

  const instanceId = config.instanceId ?? `${hostname()}-${process.pid}`;
  const telemetry = initTelemetry({ serviceName: options.name, instanceId, env });
  const logger = createLogger({ service: options.name, instanceId, level: config.logLevel });
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 10_000;
  const abort = new AbortController();
  const hooks: (() => Promise<void> | void)[] = [];
  let ownReady: boolean | undefined;
  let ownReason: string | undefined;
  let shuttingDown = false;
  let tracked = 0;
  let trackedIdle: (() => void) | undefined;
  let bus: Bus | undefined;
  let handle: ServiceHandle | void = undefined;
  let health: Awaited<ReturnType<typeof startHealthServer>> | undefined;

  const fail = async (message: string, err: unknown) => {
    logger.fatal({ err }, message);
    await bus?.close().catch(() => undefined);
    await health?.app.close().catch(() => undefined);
    await telemetry.shutdown().catch(() => undefined);
    exit(ServiceExitCode.Failed);
  };

  try {
    bus = await connectBus({
      servers: config.nats.url.split(',').map((s) => s.trim()),
      name: `${options.name}@${instanceId}`,
      ...(config.nats.user ? { user: config.nats.user, pass: config.nats.password ?? '' } : {}),
      // Per-service NATS users may read only their own reply inboxes (libs/contracts permissions).
      ...(natsUsers.includes(config.nats.user as NatsUser) ? { inboxPrefix: inboxPrefixFor(config.nats.user as NatsUser) } : {}),
      logger,
    });
  } catch (err) {
    await fail('cannot connect to NATS', err);
    return;
  }

  const readiness = (): ReadinessReport => {
    const nats = bus!.status();
    const checks: ReadinessReport['checks'] = {
      nats: nats.state === 'connected' ? { ok: true } : { ok: false, detail: `${nats.state} for ${nats.msSinceContact} ms` },
      service: ownReady === true ? { ok: true } : { ok: false, detail: ownReason ?? 'starting' },
      shutdown: shuttingDown ? { ok: false, detail: 'shutting down' } : { ok: true },
    };
    return { ready: Object.values(checks).every((c) => c.ok), checks };
  };
  try {
    health = await startHealthServer({ host: config.health.host, port: config.health.port, readiness });
  } catch (err) {
    await fail(`cannot listen for health checks on ${config.health.host}:${config.health.port}`, err);
    return;
  }

  const ctx: ServiceContext<Static<S> & BaseConfig> = {
    name: options.name,
    instanceId,
    config,
    logger,
    telemetry,
    bus,
    signal: abort.signal,
    setReady: (ready, reason) => {
      ownReady = ready;
      ownReason = ready ? undefined : reason;
    },
    track: (work) => {
      tracked++;
      return work.finally(() => {
        tracked--;
        if (tracked === 0) trackedIdle?.();
      });
    },
    onShutdown: (fn) => void hooks.push(fn),
  };

  let signals = 0;
  const shutdown = async (reason: string, exitCode: number = ServiceExitCode.Ok) => {
    if (shuttingDown) return;
    shuttingDown = true;
    const hardStop = setTimeout(() => {
      logger.error({ reason }, 'shutdown did not complete in time; exiting');
      exit(ServiceExitCode.Failed);
    }, shutdownTimeoutMs + 10_000);
    hardStop.unref();
    logger.info({ reason, inFlight: bus!.inFlight() + tracked }, 'shutting down');
    abort.abort();
    let code = exitCode;
    try {
      await bus!.stopListening();
      await handle?.stopAccepting?.();
      const deadline = Date.now() + shutdownTimeoutMs;
      const natsIdle = await bus!.whenIdle(shutdownTimeoutMs);
      const otherIdle =
        tracked === 0 ||
        (await new Promise<boolean>((resolve) => {
          const t = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
          trackedIdle = () => {
            clearTimeout(t);
            resolve(true);
          };
        }));
      if (!natsIdle || !otherIdle) {
        logger.warn({ inFlight: bus!.inFlight() + tracked, shutdownTimeoutMs }, 'in-flight work did not finish in time; abandoning it');
        code = ServiceExitCode.Failed;
      }
      for (const fn of hooks.reverse()) {
        try {
          await fn();
        } catch (err) {
          logger.error({ err }, 'shutdown hook failed');
          code = ServiceExitCode.Failed;
        }
      }
      await bus!.drain().catch((err) => logger.warn({ err }, 'NATS drain failed'));
      await health!.app.close();
      logger.info({ code }, 'stopped');
      await telemetry.shutdown();
    } catch (err) {
      logger.error({ err }, 'shutdown failed');
      code = ServiceExitCode.Failed;
    }
    clearTimeout(hardStop);
    exit(code);
  };
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal: sig }, 'second signal: exiting at once');
      exit(128 + (sig === 'SIGINT' ? 2 : 15));
      return;
    }
    void shutdown(sig);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception');
    void shutdown('uncaughtException', ServiceExitCode.Failed);
  });
  process.on('unhandledRejection', (err) => {
    logger.fatal({ err }, 'unhandled rejection');
    void shutdown('unhandledRejection', ServiceExitCode.Failed);
  });

  try {
    handle = await options.start(ctx);
  } catch (err) {
    process.removeListener('SIGTERM', onSignal);
    process.removeListener('SIGINT', onSignal);
    await fail(`${options.name} failed to start${isTameFlareError(err) ? ` (${err.code})` : ''}`, err);
    return;
  }
  if (ownReady === undefined) ownReady = true;
  logger.info({ healthPort: health.port, nats: bus.status().server }, `${options.name} started`);
}

