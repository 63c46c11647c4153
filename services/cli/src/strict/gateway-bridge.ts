import { chmodSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';

/** The host end of strict mode: a Unix socket whose every connection is relayed to the gateway. */
export interface GatewayBridge {
  readonly socketPath: string;
  /** Connections relayed so far. */
  connections(): number;
  close(): Promise<void>;
}

function pipeBoth(a: Socket, b: Socket): void {
  a.pipe(b);
  b.pipe(a);
  const end = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', end);
  b.on('error', end);
  a.on('close', end);
  b.on('close', end);
}

/**
 * Listens on `socketPath` (mode 0600) and relays each connection to the gateway's proxy port on
 * the host. The agent's network namespace has no interface but loopback; this socket, reached
 * through the shared filesystem, is its only way out, and it leads to the proxy only.
 */
export async function startGatewayBridge(socketPath: string, gateway: { host: string; port: number }): Promise<GatewayBridge> {
  rmSync(socketPath, { force: true });
  let count = 0;
  const open = new Set<Socket>();
  const server: Server = createServer((agentSide) => {
    count++;
    open.add(agentSide);
    agentSide.on('close', () => open.delete(agentSide));
    const gatewaySide = connect({ host: gateway.host, port: gateway.port });
    pipeBoth(agentSide, gatewaySide);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  chmodSync(socketPath, 0o600);
  return {
    socketPath,
    connections: () => count,
    close: async () => {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(socketPath, { force: true });
    },
  };
}
