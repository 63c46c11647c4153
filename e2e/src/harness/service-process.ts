import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { waitFor } from '@tameflare/testing';

/** A TameFlare service started as its own `node services/<name>/src/main.ts` process. */
export interface ServiceProcess {
  readonly name: string;
  readonly running: boolean;
  start(): Promise<void>;
  /** SIGTERM: graceful shutdown; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: a crash, nothing flushed or drained. */
  kill(): Promise<void>;
  /** Everything the process wrote to stdout and stderr, across restarts. */
  log(): string;
  dispose(): Promise<void>;
}

const repoRoot = resolve(import.meta.dirname, '../../..');

/**
 * Spawns `services/<service>/src/main.ts` with `env` (plus PATH) and waits until `ready()` says
 * so; a process that exits during start fails with the tail of its log.
 */
export function serviceProcess(name: string, service: string, env: Record<string, string>, ready: () => Promise<boolean>): ServiceProcess {
  const dir = mkdtempSync(join(tmpdir(), `tf-e2e-${name}-`));
  const logFile = join(dir, 'out.log');
  let child: ChildProcess | undefined;
  const alive = () => !!child && child.exitCode === null && child.signalCode === null;
  const terminate = async (sig: NodeJS.Signals): Promise<number | null> => {
    const c = child;
    if (!c || !alive()) return c?.exitCode ?? null;
    const done = new Promise<number | null>((r) => c.once('exit', (code) => r(code)));
    c.kill(sig);
    return done;
  };
  return {
    name,
    get running() {
      return alive();
    },
    async start() {
      const fd = openSync(logFile, 'a');
      child = spawn(process.execPath, [resolve(repoRoot, 'services', service, 'src', 'main.ts')], {
        env: { PATH: process.env.PATH ?? '', TF_LOG_LEVEL: 'info', ...env },
        stdio: ['ignore', fd, fd],
      });
      closeSync(fd);
      const c = child;
      await waitFor(
        async () => {
          if (c.exitCode !== null) throw new Error(`${name} exited with ${c.exitCode}: ${readFileSync(logFile, 'utf8').slice(-3000)}`);
          return ready();
        },
        { timeoutMs: 40_000, intervalMs: 100, what: `${name} ready` },
      );
    },
    stop: () => terminate('SIGTERM'),
    async kill() {
      await terminate('SIGKILL');
    },
    log: () => readFileSync(logFile, 'utf8'),
    async dispose() {
      await terminate('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** True when `GET http://127.0.0.1:<port>/readyz` answers 200. */
export async function isReady(healthPort: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${healthPort}/readyz`, { signal: AbortSignal.timeout(1000) })).status === 200;
  } catch {
    return false;
  }
}
