import { spawn } from 'node:child_process';
import { constants } from 'node:os';

/** How the agent ended. */
export interface AgentExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** What `tf run` exits with: the agent's code, or 128 + the signal number, as a shell reports it. */
  tfExitCode: number;
}

/** Signals passed on to the agent. */
const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/**
 * Starts the agent with stdin, stdout and stderr inherited (the same file descriptors: nothing
 * is copied), forwards signals to it and resolves when it exits.
 *
 * On a terminal, Ctrl-C already reaches the agent (same foreground process group), so SIGINT is
 * only forwarded when stdin is not a terminal (scripts, CI, `kill -INT`); every other signal is
 * always forwarded. tf itself never dies of a forwarded signal: it waits for the agent to finish.
 */
export function spawnAgent(o: { file: string; argv0: string; args: string[]; env: Record<string, string>; cwd: string; interactive: boolean }): Promise<AgentExit> {
  return new Promise((resolve, reject) => {
    const child = spawn(o.file, o.args, { argv0: o.argv0, env: o.env, cwd: o.cwd, stdio: 'inherit' });
    const handlers = new Map<NodeJS.Signals, () => void>();
    for (const sig of FORWARDED) {
      const h = () => {
        if (sig === 'SIGINT' && o.interactive) return;
        try {
          child.kill(sig);
        } catch {
          // Already exiting.
        }
      };
      handlers.set(sig, h);
      process.on(sig, h);
    }
    const cleanup = () => {
      for (const [sig, h] of handlers) process.removeListener(sig, h);
    };
    child.once('error', (err) => {
      cleanup();
      reject(err);
    });
    child.once('exit', (code, signal) => {
      cleanup();
      const n = signal ? (constants.signals as Record<string, number>)[signal] ?? 0 : 0;
      resolve({ exitCode: code, signal, tfExitCode: signal ? 128 + n : (code ?? 1) });
    });
  });
}
