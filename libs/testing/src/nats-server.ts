import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './ports.ts';

/** A private nats-server process for one test file. */
export interface TestNatsServer {
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  readonly configFile: string;
  readonly pid: number | undefined;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and keeps its JetStream store for a restart. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same store. */
  start(): Promise<void>;
  /** Sends a signal to the server process (SIGKILL, SIGSTOP, SIGCONT...). */
  signal(sig: NodeJS.Signals): void;
  /** Stops the server and deletes its store. */
  dispose(): Promise<void>;
}

export interface TestNatsServerOptions {
  /** Enable JetStream (default true). */
  jetstream?: boolean;
  /** Extra configuration appended to the generated file (authorization blocks, cluster...). */
  extraConfig?: string;
  port?: number;
  /** Server name (needed in clusters). */
  serverName?: string;
  /** Use this store directory instead of a fresh one. */
  storeDir?: string;
}

/** The nats-server binary: `NATS_SERVER_BIN`, else Debian's. */
export const natsServerBin = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';

/**
 * Starts a private nats-server on a free loopback port with its own JetStream store, so tests
 * never share streams with each other or with a developer's stack.
 */
export async function startNatsServer(options: TestNatsServerOptions = {}): Promise<TestNatsServer> {
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'tf-nats-'));
  const storeDir = options.storeDir ?? join(dir, 'js');
  const configFile = join(dir, 'nats.conf');
  const lines = [
    `listen: 127.0.0.1:${port}`,
    `server_name: ${options.serverName ?? `tf-test-${port}`}`,
    options.jetstream === false ? '' : `jetstream { store_dir: ${JSON.stringify(storeDir)}, max_memory_store: 256MB, max_file_store: 4GB }`,
    options.extraConfig ?? '',
  ];
  writeFileSync(configFile, lines.join('\n') + '\n');
  let child: ChildProcess | undefined;
  let output = '';

  const start = async () => {
    output = '';
    child = spawn(natsServerBin, ['-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d) => (output += d));
    child.stderr?.on('data', (d) => (output += d));
    const exited = new Promise<never>((_, reject) =>
      child!.once('exit', (code) => reject(new Error(`nats-server exited with ${code}: ${output.slice(-2000)}`))),
    );
    exited.catch(() => undefined);
    await Promise.race([
      waitFor(() => canConnect(port), { timeoutMs: 15_000, what: `nats-server on ${port}` }),
      exited,
    ]);
    if (options.jetstream !== false) {
      await waitFor(() => /Server is ready|Listening for client connections/.test(output), { timeoutMs: 15_000, what: 'nats-server ready' });
    }
  };

  const stop = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const done = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(t);
  };

  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    configFile,
    get pid() {
      return child?.pid;
    },
    stop,
    start,
    signal: (sig) => child?.kill(sig),
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}
