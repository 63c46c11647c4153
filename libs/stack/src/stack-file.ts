import { StackError, StackErrorCode } from './errors.ts';
import type { ServiceName } from './services.ts';
import { readPrivateFile, writePrivateFile, type StatePaths } from './state-dir.ts';

/** One running process of the stack. */
export interface StackProcess {
  /** `nats` or a service name. */
  service: ServiceName | 'nats';
  instanceId: string;
  pid: number;
  /** A string in the process's command line, checked before it is signalled. */
  marker: string;
  healthPort: number | null;
  logFile: string;
  /** The ingress's proxy port or the audit API's HTTP port. */
  port: number | null;
}

/** What `tf up` leaves in `<state>/stack.json` for `tf status`, `tf down` and `tf run`. */
export interface StackInfo {
  version: 1;
  stateDir: string;
  startedAt: string;
  /** `nats://127.0.0.1:<port>` */
  natsUrl: string;
  /** The database (the URL without any password). */
  database: string;
  processes: StackProcess[];
  /** `http://127.0.0.1:<port>` of each ingress replica, in instance order. */
  proxies: { instanceId: string; url: string }[];
  /** The GraphQL endpoint. */
  graphqlUrl: string;
  /** PEM of the gateway's interception CA (what agents must trust). */
  caCertFile: string;
  defaultGateway: string;
}

export function writeStackFile(paths: StatePaths, info: StackInfo): void {
  writePrivateFile(paths.stackFile, JSON.stringify(info, null, 2) + '\n');
}

/** The stack file, or null when none is there. @throws StackError (State) when it is unreadable. */
export function readStackFile(paths: StatePaths): StackInfo | null {
  const text = readPrivateFile(paths.stackFile);
  if (text === null) return null;
  try {
    const info = JSON.parse(text) as StackInfo;
    if (info.version !== 1 || !Array.isArray(info.processes)) throw new Error('unknown layout');
    return info;
  } catch (cause) {
    throw new StackError(StackErrorCode.State, `${paths.stackFile} is not a stack file this version understands`, {
      cause,
      hint: `stop any leftover processes, then remove ${paths.stackFile} and run tf up`,
    });
  }
}

/** The database URL with its password replaced, for display and the stack file. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}
