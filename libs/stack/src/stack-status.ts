import { isOurProcess, readiness } from './processes.ts';
import { readStackFile, type StackInfo, type StackProcess } from './stack-file.ts';
import { resolveStateDir, statePaths } from './state-dir.ts';

export interface ProcessStatus {
  service: StackProcess['service'];
  instanceId: string;
  pid: number;
  alive: boolean;
  /** `/readyz` answered 200 (NATS: accepts connections). */
  ready: boolean;
  detail: string;
  port: number | null;
  logFile: string;
}

export interface StackStatus {
  stateDir: string;
  /** A stack file exists. */
  started: boolean;
  /** Every process is alive and ready. */
  healthy: boolean;
  info: StackInfo | null;
  processes: ProcessStatus[];
}

/** The state of the stack in a state directory: each process alive and ready, or why not. */
export async function stackStatus(options: { stateDir?: string } = {}): Promise<StackStatus> {
  const paths = statePaths(resolveStateDir(options.stateDir));
  const info = readStackFile(paths);
  if (!info) return { stateDir: paths.root, started: false, healthy: false, info: null, processes: [] };
  const processes = await Promise.all(
    info.processes.map(async (p): Promise<ProcessStatus> => {
      const alive = isOurProcess(p.pid, p.marker);
      let ready = false;
      let detail = alive ? 'running' : 'not running';
      if (alive && p.healthPort !== null) ({ ready, detail } = await readiness(p.healthPort));
      else if (alive) ready = true;
      return { service: p.service, instanceId: p.instanceId, pid: p.pid, alive, ready, detail, port: p.port, logFile: p.logFile };
    }),
  );
  return { stateDir: paths.root, started: true, healthy: processes.length > 0 && processes.every((p) => p.alive && p.ready), info, processes };
}
