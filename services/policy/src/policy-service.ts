import { Buckets, Commands, PolicyHistoryCommand, type ConnectorEntry, type GatewayEntry } from '@tameflare/contracts';
import type { EventStore } from '@tameflare/event-store';
import type { Bus, KvWatch, Listener } from '@tameflare/messaging';
import type { ActionCatalog } from '@tameflare/policy-engine';
import { createBundleRegistry, type BundleRegistry, type RegistryLogger } from './bundle-registry.ts';
import { createDecider } from './decide.ts';
import { createHistory } from './history.ts';
import { decodeConnectorEntry, decodeDecide, decodeGatewayEntry, decodeHistory, decodePublish } from './payloads.ts';
import { createPublisher } from './publish.ts';
import { createKvSessionStore } from './session-store.ts';

export interface PolicyServiceOptions {
  bus: Bus;
  store: EventStore;
  /** This replica's id, recorded as `policy@<instanceId>` on the events it produces. */
  instanceId: string;
  logger?: RegistryLogger & { warn?(obj: object, msg?: string): void };
  /** Known connectors and action types, to refuse globs that match none (see docs/policy.md). */
  catalog?: ActionCatalog;
  /** Compare-and-set attempts on a session key before answering 503 (default 20). */
  sessionAttempts?: number;
  /** Time allowed to the vault and the approval service (ms, default 2000). */
  downstreamTimeoutMs?: number;
}

/** A running policy replica. */
export interface PolicyService {
  readonly registry: BundleRegistry;
  /** Stops answering (in-flight requests finish) and stops the KV watches. */
  stop(): Promise<void>;
}

/**
 * Starts one policy replica on a bus: loads the active bundles, gateway modes and connectors
 * from KV (and keeps watching them), then answers `tf.cmd.policy.decide`, `.publish` and
 * `.history` in queue group `policy`, so any number of replicas share the load.
 */
export async function startPolicyService(options: PolicyServiceOptions): Promise<PolicyService> {
  const { bus, store, logger } = options;
  const source = `policy@${options.instanceId}`;
  const registry = await createBundleRegistry(bus, logger);
  const watches: KvWatch<unknown>[] = [];
  try {
    const gateways = await bus.watchKv<GatewayEntry>(Buckets.gateways, {
      decode: (v) => decodeGatewayEntry(v),
      onInvalid: (err, key) => logger?.error({ err, key }, 'ignoring a malformed tf_gateways entry (that gateway is enforced)'),
    });
    watches.push(gateways);
    const connectors = await bus.watchKv<ConnectorEntry>(Buckets.connectors, {
      decode: (v) => decodeConnectorEntry(v),
      onInvalid: (err, key) => logger?.error({ err, key }, 'ignoring a malformed tf_connectors entry'),
    });
    watches.push(connectors);
    await Promise.all([registry.ready, gateways.ready, connectors.ready]);

    const decide = createDecider({
      bus,
      registry,
      sessions: createKvSessionStore(bus),
      source,
      state: { gateway: (id) => gateways.get(id), connector: (gw, id) => connectors.get(`${gw}.${id}`) },
      ...(options.sessionAttempts !== undefined ? { sessionAttempts: options.sessionAttempts } : {}),
      ...(options.downstreamTimeoutMs !== undefined ? { downstreamTimeoutMs: options.downstreamTimeoutMs } : {}),
    });
    const publish = createPublisher({ bus, store, source, ...(options.catalog ? { catalog: options.catalog } : {}) });
    const history = createHistory(store, registry);
    const listeners: Listener[] = await Promise.all([
      bus.serve({ ...Commands.policyDecide, decode: decodeDecide }, decide),
      bus.serve({ ...Commands.policyPublish, decode: decodePublish }, publish),
      bus.serve({ ...PolicyHistoryCommand, decode: decodeHistory }, history),
    ]);
    return {
      registry,
      stop: async () => {
        await Promise.all(listeners.map((l) => l.stop()));
        await Promise.all([registry.stop(), ...watches.map((w) => w.stop())]);
      },
    };
  } catch (err) {
    await Promise.all([registry.stop(), ...watches.map((w) => w.stop())]);
    throw err;
  }
}
