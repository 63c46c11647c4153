import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const childScript = fileURLToPath(new URL('./child.ts', import.meta.url));

export interface Child {
  readonly proc: ChildProcess;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
  kill(): Promise<void>;
}

/** Starts test-fixtures/child.ts in a new Node process and waits for its `ready` line. */
export async function spawnChild(args: string[]): Promise<Child> {
  const proc = spawn(process.execPath, [childScript, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('ready\n')) resolve();
    });
    void exited.then((code) => reject(new Error(`child exited with ${code} before it was ready: ${err.slice(-2000)}`)));
  });
  return {
    proc,
    exited,
    kill: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGKILL');
      await exited;
    },
  };
}
