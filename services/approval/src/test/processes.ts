import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { waitFor } from '@tameflare/testing';

/** A service started as its own `node src/main.ts` process, as `tf up` or a container would. */
export interface ServiceProcess {
  readonly name: string;
  readonly pid: number | undefined;
  start(): Promise<void>;
  /** SIGTERM: graceful shutdown. */
  stop(): Promise<number | null>;
  /** SIGKILL: a crash, nothing flushed. */
  kill(): Promise<void>;
  log(): string;
  dispose(): Promise<void>;
}

const repoRoot = resolve(import.meta.dirname, '../../../..');

export function serviceProcess(options: {
  name: string;
  main: string;
  env: Record<string, string>;
  ready: () => Promise<boolean>;
}): ServiceProcess {
  const dir = mkdtempSync(join(tmpdir(), `tf-${options.name}-`));
  const logFile = join(dir, 'out.log');
  let child: ChildProcess | undefined;
  const exited = () => !child || child.exitCode !== null || child.signalCode !== null;
  const terminate = async (sig: NodeJS.Signals) => {
    const c = child;
    if (!c || exited()) return c?.exitCode ?? null;
    const done = new Promise<number | null>((r) => c.once('exit', (code) => r(code)));
    c.kill(sig);
    return done;
  };
  return {
    name: options.name,
    get pid() {
      return child?.pid;
    },
    async start() {
      const fd = openSync(logFile, 'a');
      child = spawn(process.execPath, [resolve(repoRoot, options.main)], {
        env: { PATH: process.env.PATH ?? '', TF_HEALTH_PORT: '0', TF_LOG_LEVEL: 'info', ...options.env },
        stdio: ['ignore', fd, fd],
      });
      closeSync(fd);
      const c = child;
      await waitFor(
        async () => {
          if (c.exitCode !== null) throw new Error(`${options.name} exited with ${c.exitCode}: ${readFileSync(logFile, 'utf8').slice(-3000)}`);
          return options.ready();
        },
        { timeoutMs: 30_000, intervalMs: 100, what: `${options.name} process ready` },
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
