import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { StackError, StackErrorCode } from './errors.ts';

/** `~/.tameflare`, unless `TF_STATE_DIR` says otherwise. */
export function resolveStateDir(dir?: string, env: Record<string, string | undefined> = process.env): string {
  return resolve(dir ?? (env.TF_STATE_DIR || join(homedir(), '.tameflare')));
}

/** Every file and directory a stack keeps in its state directory. */
export interface StatePaths {
  root: string;
  /** The running stack: pids, ports, URLs (`tf status`, `tf down`, `tf run` read it). */
  stackFile: string;
  lockFile: string;
  natsDir: string;
  natsConfig: string;
  natsStore: string;
  /** Passwords of every NATS user (0600); the CLI connects as `admin`. */
  natsPasswords: string;
  vaultDir: string;
  masterKey: string;
  /** The ingress's interception CA (`ca.key.pem` 0600, `ca.cert.pem`), created by the ingress. */
  ingressDir: string;
  caCert: string;
  projectorDir: string;
  logsDir: string;
  cliDir: string;
  /** The bootstrap admin API token for the audit API (0600). */
  adminToken: string;
  /** Per-run files of `tf run` (combined CA bundles). */
  runsDir: string;
}

export function statePaths(stateDir: string): StatePaths {
  const root = resolve(stateDir);
  return {
    root,
    stackFile: join(root, 'stack.json'),
    lockFile: join(root, 'stack.lock'),
    natsDir: join(root, 'nats'),
    natsConfig: join(root, 'nats', 'nats-server.conf'),
    natsStore: join(root, 'nats', 'jetstream'),
    natsPasswords: join(root, 'nats', 'passwords.json'),
    vaultDir: join(root, 'vault'),
    masterKey: join(root, 'vault', 'master.key'),
    ingressDir: join(root, 'ingress'),
    caCert: join(root, 'ingress', 'ca.cert.pem'),
    projectorDir: join(root, 'projector'),
    logsDir: join(root, 'logs'),
    cliDir: join(root, 'cli'),
    adminToken: join(root, 'cli', 'admin-token'),
    runsDir: join(root, 'runs'),
  };
}

/** Creates `dir` (and parents) and makes it 0700. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/** Writes `content` to `path` with mode 0600, atomically (a reader never sees half a file). */
export function writePrivateFile(path: string, content: string): void {
  ensurePrivateDir(dirname(path));
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/**
 * Reads a secret file, refusing one that others can read: a password or key that leaked to
 * other users is not silently used.
 */
export function readPrivateFile(path: string): string | null {
  if (!existsSync(path)) return null;
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new StackError(StackErrorCode.InsecureFile, `${path} has mode ${mode.toString(8).padStart(4, '0')}; secrets must be 0600`, {
      hint: `chmod 600 ${path}`,
      details: { path },
    });
  }
  return readFileSync(path, 'utf8');
}
