import { Buckets, Commands, type ConnectorEntry, type VaultReleaseRequest } from '@tameflare/contracts';
import { createPostgresEventStore, type PostgresEventStore } from '@tameflare/event-store';
import { connectBus, type Bus, type Listener } from '@tameflare/messaging';
import { createTestDatabase, startNatsServer, type TestDatabase, type TestNatsServer } from '@tameflare/testing';
import { sealCredential } from '@tameflare/vault-crypto';
import type { Logger } from '../types.ts';

/** The secret the test vault releases; tests check it arrives, sealed, and nowhere else. */
export const STRIPE_SECRET = 'sk_test_approval_e2e_4242424242';

export interface TestEnv {
  nats: TestNatsServer;
  db: TestDatabase;
  store: PostgresEventStore;
  bus: Bus;
  /** Vault release requests seen, in order. */
  releases: VaultReleaseRequest[];
  connect(name: string): Promise<Bus>;
  dispose(): Promise<void>;
}

export const quietLog: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * A private nats-server with the TameFlare streams and buckets, a fresh database with the event
 * store schema, a stripe connector that injects a bearer secret, and a small vault responder on
 * `tf.cmd.vault.release` that seals that secret to the claiming ingress (the vault service is
 * another project; this stand-in speaks its real contract over real NATS).
 */
export async function startTestEnv(): Promise<TestEnv> {
  const nats = await startNatsServer();
  const db = await createTestDatabase('approval');
  const store = createPostgresEventStore({ connectionString: db.url });
  await store.migrate();
  const buses: Bus[] = [];
  const connect = async (name: string) => {
    const b = await connectBus({ servers: nats.url, name });
    buses.push(b);
    return b;
  };
  const bus = await connect('approval-test');
  await bus.ensureStreams();
  await bus.ensureBuckets();
  const connector: ConnectorEntry = {
    gatewayId: 'default',
    connectorId: 'stripe',
    kind: 'stripe',
    secretName: 'stripe-key',
    injection: { kind: 'bearer' },
    domains: [],
    options: {},
  };
  await (await bus.kv(Buckets.connectors)).put('default.stripe', connector);
  const releases: VaultReleaseRequest[] = [];
  const vault: Listener = await bus.serve(Commands.vaultRelease, (req: VaultReleaseRequest) => {
    releases.push(req);
    const credential = sealCredential(
      Buffer.from(STRIPE_SECRET),
      req.ingress.publicKey,
      { actionId: req.actionId, ingressId: req.ingress.id, secretName: req.secretName, secretVersion: 1 },
      req.injection,
    );
    return { credential };
  });
  return {
    nats,
    db,
    store,
    bus,
    releases,
    connect,
    async dispose() {
      await vault.stop();
      for (const b of buses) await b.close().catch(() => undefined);
      await store.close();
      await db.drop();
      await nats.dispose();
    },
  };
}
