import { existsSync } from 'node:fs';
import { inboxPrefixFor, natsServerConfig, type NatsUser } from '@tameflare/contracts';
import { connectBus, type Bus } from '@tameflare/messaging';
import { StackError, StackErrorCode } from './errors.ts';
import { isOurProcess, logTail, portOpen, spawnDetached } from './processes.ts';
import { ensurePrivateDir, writePrivateFile, type StatePaths } from './state-dir.ts';

/** Debian's nats-server, unless `TF_NATS_SERVER_BIN` (or `NATS_SERVER_BIN`) names another. */
export function natsServerBinary(env: Record<string, string | undefined> = process.env): string {
  return env.TF_NATS_SERVER_BIN || env.NATS_SERVER_BIN || '/usr/sbin/nats-server';
}

/**
 * Writes the server configuration (generated from the permission matrix, every user with its
 * password; 0600) and starts a private nats-server on 127.0.0.1:`port` with its own JetStream
 * store. Resolves with its pid once it accepts connections.
 */
export async function startNatsServer(options: { paths: StatePaths; port: number; passwords: Record<NatsUser, string>; bin: string; logFile: string; timeoutMs?: number }): Promise<number> {
  const { paths } = options;
  if (!existsSync(options.bin)) {
    throw new StackError(StackErrorCode.NatsMissing, `nats-server is not installed at ${options.bin}`, {
      hint: 'install it with `sudo apt-get install nats-server`, or set TF_NATS_SERVER_BIN to its path',
    });
  }
  ensurePrivateDir(paths.natsStore);
  writePrivateFile(
    paths.natsConfig,
    natsServerConfig({ listen: `127.0.0.1:${options.port}`, serverName: 'tameflare-local', storeDir: paths.natsStore, monitorPort: null, passwords: options.passwords }),
  );
  const pid = spawnDetached({ command: options.bin, args: ['-c', paths.natsConfig], env: { PATH: process.env.PATH ?? '' }, logFile: options.logFile, cwd: paths.root });
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  while (Date.now() < deadline) {
    if (!isOurProcess(pid, paths.natsConfig)) {
      throw new StackError(StackErrorCode.StartFailed, `nats-server exited during start: ${logTail(options.logFile, 600)}`, {
        details: { service: 'nats', logFile: options.logFile },
        hint: `see ${options.logFile}`,
      });
    }
    if (await portOpen(options.port)) return pid;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new StackError(StackErrorCode.StartFailed, `nats-server did not listen on port ${options.port} in time`, { details: { service: 'nats' }, hint: `see ${options.logFile}` });
}

/** Connects to the stack's NATS as `user` (default `admin`, what `tf up` and the CLI use). */
export function connectAs(natsUrl: string, passwords: Record<NatsUser, string>, user: NatsUser = 'admin', options: { name?: string; requestTimeoutMs?: number } = {}): Promise<Bus> {
  return connectBus({
    servers: natsUrl,
    name: options.name ?? `tf-cli-${process.pid}`,
    user,
    pass: passwords[user],
    inboxPrefix: inboxPrefixFor(user),
    requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
    connectTimeoutMs: 3000,
  });
}
