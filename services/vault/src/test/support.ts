import { jetstreamManager } from '@nats-io/jetstream';
import { uuidv7, type CredentialInjection, type TameFlareEvent, type VaultReleaseRequest } from '@tameflare/contracts';
import { createPostgresEventStore, type PostgresEventStore } from '@tameflare/event-store';
import { connectBus, type Bus } from '@tameflare/messaging';
import { createIngressKeyPair, createKeyring, masterKeyFromBase64, type Keyring, type RecipientKeyPair } from '@tameflare/vault-crypto';
import { migrateVault } from '../schema.ts';
import { serveVault } from '../serve-vault.ts';
import { createVault, type Vault } from '../vault.ts';
import { postgresVaultStore } from '../vault-store.ts';

/** A vault wired to real NATS and PostgreSQL, as main.ts wires it, for tests and benchmarks. */
export interface VaultHarness {
  vault: Vault;
  bus: Bus;
  store: PostgresEventStore;
  stop(): Promise<void>;
}

export async function startVault(options: { natsUrl: string; databaseUrl: string; keyring: Keyring; name?: string }): Promise<VaultHarness> {
  const store = createPostgresEventStore({ connectionString: options.databaseUrl, maxConnections: 4 });
  await store.migrate();
  await migrateVault(store.pool);
  const bus = await connectBus({ servers: options.natsUrl, name: options.name ?? 'vault@test', requestTimeoutMs: 5000, ackTimeoutMs: 5000 });
  await bus.ensureStreams();
  const vault = createVault({ keyring: options.keyring, store: postgresVaultStore(store), publishEvent: (e) => bus.publishEvent(e), source: options.name ?? 'vault@test' });
  await serveVault(bus, vault);
  return {
    vault,
    bus,
    store,
    stop: async () => {
      await bus.drain().catch(() => undefined);
      await store.close();
    },
  };
}

export const keyringOf = (...b64: string[]): Keyring => createKeyring(masterKeyFromBase64(b64[0]!), b64.slice(1).map((k) => masterKeyFromBase64(k)));

/** A release request as the policy service sends it, for an ingress instance with a fresh key. */
export function releaseRequest(
  secretName: string,
  options: { gatewayId?: string; ingress?: RecipientKeyPair & { id: string }; injection?: CredentialInjection; approvalId?: string | null } = {},
): { req: VaultReleaseRequest; ingress: RecipientKeyPair & { id: string } } {
  const ingress = options.ingress ?? { ...createIngressKeyPair(), id: `ingress-${uuidv7().slice(-6)}` };
  const req: VaultReleaseRequest = {
    actionId: uuidv7(),
    runId: uuidv7(),
    agentId: 'test-agent',
    gatewayId: options.gatewayId ?? 'default',
    connector: 'github',
    secretName,
    injection: options.injection ?? { kind: 'bearer' },
    approvalId: options.approvalId ?? null,
    authorizedBy: uuidv7(),
    ingress: { id: ingress.id, publicKey: ingress.publicKey },
  };
  return { req, ingress };
}

/** Every event in TF_EVENTS on `subject` (admin view, for assertions). */
export async function streamEvents(bus: Bus, subject: string): Promise<TameFlareEvent[]> {
  const jsm = await jetstreamManager(bus.nc);
  const out: TameFlareEvent[] = [];
  const info = await jsm.streams.info('TF_EVENTS', { subjects_filter: subject });
  const last = info.state.last_seq;
  for (let seq = info.state.first_seq; seq <= last && seq > 0; seq++) {
    try {
      const m = await jsm.streams.getMessage('TF_EVENTS', { seq });
      if (m && matches(subject, m.subject)) out.push(m.json<TameFlareEvent>());
    } catch {
      // deleted or missing sequence
    }
  }
  return out;
}

function matches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (p[i] !== '*' && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

