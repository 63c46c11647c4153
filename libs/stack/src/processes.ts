import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { StackError, StackErrorCode } from './errors.ts';

/** Starts a long-lived process detached from the caller (it outlives `tf up`), output appended to `logFile` (0600). */
export function spawnDetached(options: { command: string; args: string[]; env: Record<string, string>; logFile: string; cwd: string }): number {
  const fd = openSync(options.logFile, 'a', 0o600);
  try {
    const child = spawn(options.command, options.args, { env: options.env, cwd: options.cwd, detached: true, stdio: ['ignore', fd, fd] });
    if (child.pid === undefined) {
      throw new StackError(StackErrorCode.StartFailed, `cannot start ${options.command}`, { details: { command: options.command } });
    }
    child.on('error', () => undefined);
    child.unref();
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/**
 * True when `pid` runs and its command line contains `marker` (the service's main file): a pid
 * reused by an unrelated process after a reboot is never signalled.
 */
export function isOurProcess(pid: number, marker: string): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (cmdline === '') return false;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // A zombie waiting for its parent is not running.
    if (/^\d+ \(.*\) Z /.test(stat)) return false;
    return cmdline.includes(marker);
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Outcome of stopping one process. */
export type StopOutcome = 'stopped' | 'killed' | 'gone';

/**
 * SIGTERM, wait up to `graceMs` for the process to exit, then SIGKILL (process group included,
 * so nothing it started survives) and wait for it to be gone.
 */
export async function stopProcess(pid: number, marker: string, graceMs: number): Promise<StopOutcome> {
  if (!isOurProcess(pid, marker)) return 'gone';
  signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isOurProcess(pid, marker)) return 'stopped';
    await sleep(50);
  }
  signal(-pid, 'SIGKILL');
  signal(pid, 'SIGKILL');
  for (let i = 0; i < 100 && isOurProcess(pid, marker); i++) await sleep(50);
  return 'killed';
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

/** The last `bytes` of a log file, for an error message. */
export function logTail(file: string, bytes = 2000): string {
  if (!existsSync(file)) return '';
  const size = statSync(file).size;
  const text = readFileSync(file, 'utf8');
  return text.slice(Math.max(0, size - bytes)).trim();
}

/** True when something accepts TCP connections on 127.0.0.1:`port`. */
export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
    s.setTimeout(1000, () => {
      s.destroy();
      resolve(false);
    });
  });
}

/** GET /readyz on a service's health port: ready, or the reason it is not. */
export async function readiness(healthPort: number, timeoutMs = 1000): Promise<{ ready: boolean; detail: string }> {
  try {
    const res = await fetch(`http://127.0.0.1:${healthPort}/readyz`, { signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.text();
    if (res.ok) return { ready: true, detail: 'ready' };
    let detail = `HTTP ${res.status}`;
    try {
      const checks = (JSON.parse(body) as { checks?: Record<string, { ok: boolean; detail?: string }> }).checks ?? {};
      const failing = Object.entries(checks).filter(([, c]) => !c.ok);
      if (failing.length) detail = failing.map(([k, c]) => `${k}: ${c.detail ?? 'not ok'}`).join('; ');
    } catch {
      // Not JSON: keep the status.
    }
    return { ready: false, detail };
  } catch (err) {
    return { ready: false, detail: (err as Error).name === 'TimeoutError' ? 'no answer' : 'not listening' };
  }
}
