import { spawn, type ChildProcess } from 'node:child_process';
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

/** 128 + the signal's number: the exit status a shell reports for a process a signal ended. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + ((constants.signals as Record<string, number>)[signal] ?? 0);
}

/**
 * Catches the signals `tf run` passes on from the moment it starts, so one that arrives before
 * the agent exists (while the run is being registered) is neither lost nor fatal to tf: it is
 * held, and `tf run` then stops without starting the agent.
 *
 * On a terminal, Ctrl-C already reaches the agent (same foreground process group), so SIGINT is
 * only forwarded when stdin is not a terminal (scripts, CI, `kill -INT`); every other signal is
 * always forwarded.
 */
export interface SignalRelay {
  /** Signals received before an agent was attached. */
  readonly early: readonly NodeJS.Signals[];
  attach(child: ChildProcess): void;
  dispose(): void;
}

export function createSignalRelay(interactive: boolean): SignalRelay {
  const early: NodeJS.Signals[] = [];
  let target: ChildProcess | null = null;
  const forward = (sig: NodeJS.Signals) => {
    if (sig === 'SIGINT' && interactive) return;
    try {
      target?.kill(sig);
    } catch {
      // Already exiting.
    }
  };
  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const sig of FORWARDED) {
    const h = () => (target ? forward(sig) : early.push(sig));
    handlers.set(sig, h);
    process.on(sig, h);
  }
  return {
    early,
    attach(child) {
      target = child;
    },
    dispose() {
      for (const [sig, h] of handlers) process.removeListener(sig, h);
    },
  };
}

/**
 * Starts the agent with stdin, stdout and stderr inherited (the same file descriptors: nothing
 * is copied), lets `relay` forward signals to it, and resolves when it exits. tf itself never
 * dies of a forwarded signal: it waits for the agent to finish.
 */
export function spawnAgent(o: { file: string; argv0: string; args: string[]; env: Record<string, string>; cwd: string; relay: SignalRelay }): Promise<AgentExit> {
  return new Promise((resolve, reject) => {
    const child = spawn(o.file, o.args, { argv0: o.argv0, env: o.env, cwd: o.cwd, stdio: 'inherit' });
    o.relay.attach(child);
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ exitCode: code, signal, tfExitCode: signal ? signalExitCode(signal) : (code ?? 1) }));
  });
}
