import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort, waitFor } from '@tameflare/testing';

const main = fileURLToPath(new URL('../main.ts', import.meta.url));

/** The recorder as its own process, as it runs in production. */
export interface RecorderProcess {
  readonly proc: ChildProcess;
  readonly healthPort: number;
  readonly exited: Promise<number | null>;
  output(): string;
  readyz(): Promise<{ status: number; body: any }>;
  kill(signal: NodeJS.Signals): void;
}

const all = new Set<ChildProcess>();

export async function startRecorderProcess(env: Record<string, string>, options: { waitReady?: boolean } = {}): Promise<RecorderProcess> {
  const healthPort = await freePort();
  const proc = spawn(process.execPath, [main], {
    env: { PATH: process.env.PATH, TF_HEALTH_PORT: String(healthPort), TF_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  all.add(proc);
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  void exited.then(() => all.delete(proc));
  const readyz = async () => {
    const r = await fetch(`http://127.0.0.1:${healthPort}/readyz`);
    return { status: r.status, body: await r.json() };
  };
  const p: RecorderProcess = { proc, healthPort, exited, output: () => out, readyz, kill: (sig) => proc.kill(sig) };
  if (options.waitReady !== false) {
    await waitFor(() => readyz().then((r) => r.status === 200).catch(() => false), { timeoutMs: 30_000, get what() { return `recorder ready (output: ${out.slice(-1500)})`; } });
  }
  return p;
}

/** SIGKILLs every recorder process a test left running. */
export async function killAllRecorders(): Promise<void> {
  await Promise.all(
    [...all].map(async (proc) => {
      const gone = new Promise((r) => proc.once('exit', r));
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await gone;
    }),
  );
}
