import { execFile } from 'node:child_process';
import { REPO_ROOT } from '@tameflare/stack';

/** Runs `node <script> [args]` with exactly `env` (plus PATH) and waits for it to exit. */
export function runMainScript(script: string, args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script, ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, cwd: REPO_ROOT, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      const e = err as (Error & { code?: number | string }) | null;
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, output: `${stdout}${stderr}` });
    });
  });
}
