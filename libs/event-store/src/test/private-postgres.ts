import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, waitFor } from '@tameflare/testing';

/** A PostgreSQL server of our own, for tests that stop and restart the database. */
export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  readonly url: string;
  readonly port: number;
  /** Fast shutdown: sessions are terminated, the port refuses connections until {@link start}. */
  stop(): Promise<void>;
  start(): Promise<void>;
  dispose(): Promise<void>;
}

function binDir(): string {
  if (process.env.TF_PG_BIN) return process.env.TF_PG_BIN;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  if (!versions.length) throw new Error('no PostgreSQL server binaries found (set TF_PG_BIN)');
  return join(root, versions[0]!, 'bin');
}

/**
 * initdb + postgres on a free loopback port in a temporary directory. PostgreSQL refuses to run
 * as root, so as root the server runs as the `postgres` user.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = binDir();
  const asRoot = userInfo().uid === 0;
  const dir = mkdtempSync(join(tmpdir(), 'tf-pg-'));
  const data = join(dir, 'data');
  const port = await freePort();
  const run = (cmd: string, args: string[]) => (asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]) as [string, string[]];
  if (asRoot) chownSync(dir, Number(spawnSync('id', ['-u', 'postgres']).stdout.toString().trim()), Number(spawnSync('id', ['-g', 'postgres']).stdout.toString().trim()));
  const init = spawnSync(...run(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']), { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);

  let child: ChildProcess | undefined;
  let log = '';
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const start = async () => {
    log = '';
    const [cmd, args] = run(join(bin, 'postgres'), [
      '-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dir}`,
      '-c', 'fsync=off', '-c', 'max_connections=40', '-c', 'shared_buffers=16MB',
    ]);
    child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d) => (log += d));
    child.stderr?.on('data', (d) => (log += d));
    await waitFor(
      async () => {
        if (child?.exitCode !== null) throw new Error(`postgres exited: ${log.slice(-1000)}`);
        const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
        c.on('error', () => undefined);
        try {
          await c.connect();
          await c.query('SELECT 1');
          return true;
        } catch {
          return false;
        } finally {
          await c.end().catch(() => undefined);
        }
      },
      { timeoutMs: 20_000, intervalMs: 100, what: `private postgres on ${port}` },
    );
  };
  const stop = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    // Signal the postmaster itself: runuser does not forward every signal.
    const pid = postmasterPid(data) ?? c.pid;
    if (pid) process.kill(pid, 'SIGINT');
    const t = setTimeout(() => pid && process.kill(pid, 'SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
  };
  await start();
  return {
    url,
    port,
    stop,
    start,
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postmasterPid(data: string): number | undefined {
  let pid = NaN;
  try {
    pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}
