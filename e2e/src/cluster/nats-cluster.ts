/**
 * A local NATS JetStream cluster for tests: N nats-server processes on loopback ports, each with
 * its own JetStream store, routed to each other, with route credentials and (optionally) the
 * TameFlare permission matrix for clients. The same topology runs in docker-compose.yml.
 */
import { randomBytes } from 'node:crypto';
import { natsAuthorizationConfig, natsUsers, type NatsUser } from '@tameflare/contracts';
import { freePort, startNatsServer, type TestNatsServer } from '@tameflare/testing';

export interface TestNatsCluster {
  readonly name: string;
  readonly nodes: readonly TestNatsServer[];
  /** Server names, index-aligned with `nodes` (`tf-n1`...). */
  readonly serverNames: readonly string[];
  /** Every node's client URL: pass all of them to a client so it fails over. */
  readonly urls: string[];
  /** One password per user of the permission matrix (when `permissions` was set). */
  readonly passwords: Record<NatsUser, string>;
  /** The node whose server name is `serverName`. */
  node(serverName: string): TestNatsServer;
  dispose(): Promise<void>;
}

export interface TestNatsClusterOptions {
  /** Nodes (default 3). */
  size?: number;
  /** Apply the per-service users of libs/contracts/src/permissions.ts (default true). */
  permissions?: boolean;
}

/**
 * Starts the nodes in parallel (a JetStream cluster elects its meta leader only once a majority
 * is up) and resolves when every node accepts client connections. JetStream may still be
 * electing: callers retry their first JetStream call.
 */
export async function startNatsCluster(options: TestNatsClusterOptions = {}): Promise<TestNatsCluster> {
  const size = options.size ?? 3;
  const name = `tf-test-${randomBytes(3).toString('hex')}`;
  const routePassword = randomBytes(18).toString('base64url');
  const passwords = Object.fromEntries(natsUsers.map((u) => [u, randomBytes(18).toString('base64url')])) as Record<NatsUser, string>;
  const clientPorts: number[] = [];
  const routePorts: number[] = [];
  for (let i = 0; i < size; i++) {
    clientPorts.push(await freePort());
    routePorts.push(await freePort());
  }
  const serverNames = clientPorts.map((_, i) => `tf-n${i + 1}`);
  const authorization = options.permissions === false ? '' : natsAuthorizationConfig({ passwords });
  const nodes = await Promise.all(
    clientPorts.map((port, i) =>
      startNatsServer({
        port,
        serverName: serverNames[i]!,
        extraConfig: [
          'cluster {',
          `  name: ${JSON.stringify(name)}`,
          `  listen: "127.0.0.1:${routePorts[i]}"`,
          `  authorization { user: "route", password: ${JSON.stringify(routePassword)} }`,
          `  routes: [${routePorts
            .filter((_, j) => j !== i)
            .map((p) => JSON.stringify(`nats-route://route:${routePassword}@127.0.0.1:${p}`))
            .join(', ')}]`,
          '}',
          authorization,
        ].join('\n'),
      }),
    ),
  );
  return {
    name,
    nodes,
    serverNames,
    urls: nodes.map((n) => n.url),
    passwords,
    node: (serverName) => {
      const i = serverNames.indexOf(serverName);
      if (i < 0) throw new Error(`no node named ${serverName} in ${serverNames.join(', ')}`);
      return nodes[i]!;
    },
    dispose: async () => {
      await Promise.all(nodes.map((n) => n.dispose()));
    },
  };
}
