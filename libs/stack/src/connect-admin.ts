import type { Bus } from '@tameflare/messaging';
import { StackError, StackErrorCode } from './errors.ts';
import { connectAs } from './nats.ts';
import { isOurProcess } from './processes.ts';
import { readNatsPasswords } from './nats-passwords.ts';
import { readStackFile, type StackInfo } from './stack-file.ts';
import { readPrivateFile, resolveStateDir, statePaths } from './state-dir.ts';

/** The running stack of a state directory, or `TF_ERR_STACK_NOT_RUNNING` with the hint to run `tf up`. */
export function runningStack(stateDir?: string): StackInfo {
  const paths = statePaths(resolveStateDir(stateDir));
  const info = readStackFile(paths);
  const nats = info?.processes.find((p) => p.service === 'nats');
  if (!info || !nats || !isOurProcess(nats.pid, nats.marker)) {
    throw new StackError(StackErrorCode.NotRunning, `the TameFlare stack is not running (state directory ${paths.root})`, { hint: 'start it with tf up' });
  }
  return info;
}

/**
 * Connects to the running stack's NATS as `admin`, with the password from the state directory:
 * how the CLI performs local operator commands (tf run, tf kill).
 */
export async function connectAdmin(stateDir?: string, options: { name?: string; requestTimeoutMs?: number } = {}): Promise<{ bus: Bus; info: StackInfo }> {
  const info = runningStack(stateDir);
  const passwords = readNatsPasswords(statePaths(info.stateDir));
  try {
    return { bus: await connectAs(info.natsUrl, passwords, 'admin', options), info };
  } catch (cause) {
    throw new StackError(StackErrorCode.NotRunning, `cannot reach the stack's NATS at ${info.natsUrl}: ${(cause as Error).message}`, { cause, hint: 'check tf status, or restart with tf down && tf up' });
  }
}

/** The bootstrap admin API token (for the audit API), or null when none was issued. */
export function readAdminToken(stateDir?: string): string | null {
  return readPrivateFile(statePaths(resolveStateDir(stateDir)).adminToken)?.trim() || null;
}
