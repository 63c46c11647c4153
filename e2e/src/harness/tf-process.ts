import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

/** The repository root and the CLI entry the tests run, exactly as a user does. */
export const REPO_ROOT = resolve(import.meta.dirname, '..', '..', '..');
export const TF_BIN = resolve(REPO_ROOT, 'services', 'cli', 'src', 'bin', 'tf.ts');

export interface TfResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface TfOptions {
  /** `TF_STATE_DIR` of the stack the command talks to. */
  stateDir: string;
  /** Extra environment (on top of PATH, HOME and TF_STATE_DIR). */
  env?: Record<string, string>;
  /** Written to the command's stdin, which is then closed (default: closed at once). */
  input?: string | Buffer;
  cwd?: string;
  /** Leave stdin open (for tests that signal a running agent). */
  keepStdinOpen?: boolean;
  /** Kill the command after this long (default 120 s). */
  timeoutMs?: number;
}

/** A running `tf` process: its output so far, a way to signal it, and how it ended. */
export interface TfProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout contains `text`. */
  waitForOutput(text: string | RegExp, timeoutMs?: number): Promise<void>;
  readonly done: Promise<TfResult>;
}

/**
 * Starts `node services/cli/src/bin/tf.ts ...args` as its own process, with a minimal
 * environment: PATH (so agents find curl, python3, node), HOME and TF_STATE_DIR.
 */
export function spawnTf(args: string[], o: TfOptions): TfProcess {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', TF_STATE_DIR: o.stateDir, ...(o.env ?? {}) };
  const child = spawn(process.execPath, [TF_BIN, ...args], { env, cwd: o.cwd ?? REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  child.stdout!.on('data', (d) => {
    out += d;
    for (const w of waiters) w();
  });
  child.stderr!.on('data', (d) => (err += d));
  if (o.input !== undefined) child.stdin!.end(o.input);
  else if (!o.keepStdinOpen) child.stdin!.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 120_000);
  const done = new Promise<TfResult>((res) => {
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      res({ code, signal, stdout: out, stderr: err });
    });
  });
  return {
    child,
    pid: child.pid!,
    stdout: () => out,
    stderr: () => err,
    waitForOutput(text, timeoutMs = 30_000) {
      const seen = () => (typeof text === 'string' ? out.includes(text) : text.test(out));
      if (seen()) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out waiting for ${String(text)} in tf output:\n${out}\n--- stderr ---\n${err}`)), timeoutMs);
        const check = () => {
          if (!seen()) return;
          clearTimeout(t);
          resolve();
        };
        waiters.push(check);
        void done.then(() => {
          clearTimeout(t);
          if (seen()) resolve();
          else reject(new Error(`tf exited before printing ${String(text)}:\n${out}\n--- stderr ---\n${err}`));
        });
      });
    },
    done,
  };
}

/** Runs `tf ...args` to completion. */
export function tf(args: string[], o: TfOptions): Promise<TfResult> {
  return spawnTf(args, o).done;
}

/** The summary `tf run --json` prints as its last stderr line. */
export function runSummaryOf(r: TfResult): { runId: string; agentId: string; actions: { total: number; allowed: number; denied: number } } & Record<string, unknown> {
  const line = r.stderr.trim().split('\n').reverse().find((l) => l.startsWith('{"summary"'));
  if (!line) throw new Error(`no summary in tf run output:\n${r.stderr}`);
  return (JSON.parse(line) as { summary: ReturnType<typeof runSummaryOf> }).summary;
}
