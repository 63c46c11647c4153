import { Buckets, type PolicyEntry } from '@tameflare/contracts';
import type { Bus, KvWatch } from '@tameflare/messaging';
import { compileBundle, type CompiledBundle } from '@tameflare/policy-engine';
import { decodePolicyEntry } from './payloads.ts';

/**
 * The bundle a gateway enforces on this replica. Immutable: a publish replaces the whole
 * object, so an evaluation that took a snapshot finishes with that one version.
 */
export type BundleSnapshot =
  | { gatewayId: string; version: number; hash: string; bundle: CompiledBundle; error: null }
  | { gatewayId: string; version: number; hash: string; bundle: null; error: string };

/** Something that went wrong while loading bundles (for the service's log). */
export interface RegistryLogger {
  error(obj: object, msg?: string): void;
  info?(obj: object, msg?: string): void;
}

/** The active bundle of every gateway, kept current from KV `tf_policy`. */
export interface BundleRegistry {
  /** Resolves once the bundles present at start are loaded. */
  readonly ready: Promise<void>;
  get(gatewayId: string): BundleSnapshot | undefined;
  /** Called after a gateway switched to another version (or lost its bundle). */
  onSwap(listener: (gatewayId: string, snapshot: BundleSnapshot | undefined) => void): () => void;
  stop(): Promise<void>;
}

/**
 * Watches `tf_policy` and compiles each new version once. A version that fails to compile or
 * whose source does not match its recorded hash becomes an error snapshot: the gateway's
 * decisions then deny with that error, rather than keep enforcing an older version than the
 * other replicas.
 */
export async function createBundleRegistry(bus: Bus, logger?: RegistryLogger): Promise<BundleRegistry> {
  const snapshots = new Map<string, BundleSnapshot>();
  const listeners = new Set<(gatewayId: string, snapshot: BundleSnapshot | undefined) => void>();
  const swap = (gatewayId: string, snapshot: BundleSnapshot | undefined) => {
    if (snapshot) snapshots.set(gatewayId, snapshot);
    else snapshots.delete(gatewayId);
    for (const l of listeners) l(gatewayId, snapshot);
  };
  const load = (entry: PolicyEntry): BundleSnapshot => {
    const { gatewayId, version, hash } = entry;
    try {
      const bundle = compileBundle(entry.source, { version, fileName: `policy-${gatewayId}-v${version}.yaml` });
      if (bundle.hash !== hash) return { gatewayId, version, hash, bundle: null, error: `the source of version ${version} does not match its recorded hash` };
      return { gatewayId, version, hash, bundle, error: null };
    } catch (err) {
      logger?.error({ err, gatewayId, version }, 'active policy bundle does not compile on this replica');
      return { gatewayId, version, hash, bundle: null, error: `version ${version} does not compile on this replica: ${(err as Error).message.split('\n')[0]}` };
    }
  };
  const watch: KvWatch<PolicyEntry> = await bus.watchKv<PolicyEntry>(Buckets.policy, {
    decode: (value) => decodePolicyEntry(value),
    onInvalid: (err, key) => logger?.error({ err, key }, 'ignoring a malformed tf_policy entry'),
    onChange: (change) => {
      if (change.op === 'delete') {
        swap(change.key, undefined);
        return;
      }
      const entry = change.value;
      if (entry.gatewayId !== change.key) {
        logger?.error({ key: change.key, gatewayId: entry.gatewayId }, 'ignoring a tf_policy entry stored under another gateway');
        return;
      }
      const current = snapshots.get(entry.gatewayId);
      // A reload after a reconnect replays the same entry: keep the compiled bundle.
      if (current && current.version === entry.version && current.hash === entry.hash) return;
      if (current && current.version > entry.version) return;
      const snapshot = load(entry);
      swap(entry.gatewayId, snapshot);
      logger?.info?.({ gatewayId: entry.gatewayId, version: entry.version, hash: entry.hash, ok: snapshot.error === null }, 'policy bundle activated');
    },
  });
  return {
    ready: watch.ready,
    get: (gatewayId) => snapshots.get(gatewayId),
    onSwap: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    stop: () => watch.stop(),
  };
}
