import { rmSync } from 'node:fs';
import { StackError, StackErrorCode } from './errors.ts';
import { stopProcess, type StopOutcome } from './processes.ts';
import { readStackFile, type StackProcess } from './stack-file.ts';
import { acquireLock } from './lock.ts';
import { resolveStateDir, statePaths } from './state-dir.ts';

export interface StopStackResult {
  processes: { instanceId: string; pid: number; outcome: StopOutcome }[];
  durationMs: number;
}

/**
 * Stops every process of the stack in a state directory: SIGTERM to the services (ingress
 * first, so agents are refused before the rest goes), a grace period for graceful shutdown, then
 * SIGKILL for stragglers; NATS last. Removes the stack file; data (database, JetStream store,
 * keys, CA) stays for the next `tf up`.
 *
 * @throws StackError `TF_ERR_STACK_NOT_RUNNING` when there is no stack file.
 */
export async function stopStack(options: { stateDir?: string; graceMs?: number; onStopped?: (p: StackProcess, outcome: StopOutcome) => void } = {}): Promise<StopStackResult> {
  const t0 = performance.now();
  const paths = statePaths(resolveStateDir(options.stateDir));
  const release = acquireLock(paths);
  try {
    const info = readStackFile(paths);
    if (!info) throw new StackError(StackErrorCode.NotRunning, `no stack is running in ${paths.root}`, { hint: 'start one with tf up' });
    const graceMs = options.graceMs ?? 15_000;
    const results: StopStackResult['processes'] = [];
    const stop = async (p: StackProcess) => {
      const outcome = await stopProcess(p.pid, p.marker, graceMs);
      results.push({ instanceId: p.instanceId, pid: p.pid, outcome });
      options.onStopped?.(p, outcome);
    };
    await Promise.all(info.processes.filter((p) => p.service === 'ingress').map(stop));
    await Promise.all(info.processes.filter((p) => p.service !== 'ingress' && p.service !== 'nats').map(stop));
    await Promise.all(info.processes.filter((p) => p.service === 'nats').map(stop));
    rmSync(paths.stackFile, { force: true });
    return { processes: results, durationMs: performance.now() - t0 };
  } finally {
    release();
  }
}
