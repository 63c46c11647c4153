import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGatewayBridge, type GatewayBridge } from './gateway-bridge.ts';
import type { StrictTools } from './strict-support.ts';
import type { StrictSpec } from './strict-spec.ts';

const ENTRY = join(import.meta.dirname, 'netns-entry.ts');
/** Unix socket paths are limited to 108 bytes on Linux. */
const MAX_SOCKET_PATH = 100;

/** How to start the agent in strict mode, and what to stop afterwards. */
export interface StrictLaunch {
  file: string;
  argv0: string;
  args: string[];
  /** The environment of the namespace entry (the agent's own travels in the spec file). */
  env: Record<string, string>;
  bridge: GatewayBridge;
  close(): Promise<void>;
}

/**
 * Prepares `tf run --strict`: the host end of the gateway bridge, and the command that starts the
 * agent in a new user and network namespace whose only way out is that bridge to the gateway's
 * proxy port. The agent keeps its environment, proxy URL included (127.0.0.1:<port> inside the
 * namespace is the relay to the gateway).
 */
export async function startStrict(o: { runDir: string; proxyUrl: string; tools: StrictTools; file: string; argv0: string; args: string[]; env: Record<string, string> }): Promise<StrictLaunch> {
  const gateway = new URL(o.proxyUrl);
  const port = Number(gateway.port || (gateway.protocol === 'https:' ? 443 : 80));
  let socketDir: string | undefined;
  let socket = join(o.runDir, 'gateway.sock');
  if (socket.length > MAX_SOCKET_PATH) {
    socketDir = mkdtempSync(join(tmpdir(), 'tf-strict-'));
    socket = join(socketDir, 'gateway.sock');
  }
  const bridge = await startGatewayBridge(socket, { host: gateway.hostname, port });
  const spec: StrictSpec = { socket, port, ip: o.tools.ip, file: o.file, argv0: o.argv0, args: o.args, env: o.env };
  const specFile = join(o.runDir, 'strict-agent.json');
  writeFileSync(specFile, JSON.stringify(spec), { mode: 0o600 });
  return {
    file: o.tools.unshare,
    argv0: 'unshare',
    args: ['--user', '--map-root-user', '--net', '--', process.execPath, ENTRY, specFile],
    env: { PATH: o.env.PATH ?? '/usr/bin:/bin' },
    bridge,
    close: async () => {
      await bridge.close();
      rmSync(specFile, { force: true });
      if (socketDir) rmSync(socketDir, { recursive: true, force: true });
    },
  };
}
