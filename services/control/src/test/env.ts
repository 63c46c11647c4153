import { randomBytes } from 'node:crypto';
import { Buckets, ControlSubjects, inboxPrefixFor, natsAuthorizationConfig, natsUsers, type KillSwitchAck, type KillSwitchEntry, type NatsUser } from '@tameflare/contracts';
import { createPostgresEventStore, type PostgresEventStore } from '@tameflare/event-store';
import { connectBus, type Bus, type KvWatch } from '@tameflare/messaging';
import { createTestDatabase, startNatsServer, type TestDatabase, type TestNatsServer } from '@tameflare/testing';

export const quietLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** A private nats-server under the real permission matrix, a fresh event store, streams and buckets. */
export interface ControlTestEnv {
  nats: TestNatsServer;
  db: TestDatabase;
  store: PostgresEventStore;
  passwords: Record<NatsUser, string>;
  /** Connected as `admin` (setup and checks). */
  admin: Bus;
  connectAs(user: NatsUser, name?: string): Promise<Bus>;
  dispose(): Promise<void>;
}

export async function startControlTestEnv(): Promise<ControlTestEnv> {
  const passwords = Object.fromEntries(natsUsers.map((u) => [u, randomBytes(18).toString('base64url')])) as Record<NatsUser, string>;
  const nats = await startNatsServer({ extraConfig: natsAuthorizationConfig({ passwords }) });
  const db = await createTestDatabase('control');
  const store = createPostgresEventStore({ connectionString: db.url });
  await store.migrate();
  const buses: Bus[] = [];
  const connectAs = async (user: NatsUser, name = user) => {
    const b = await connectBus({ servers: nats.url, name, user, pass: passwords[user], inboxPrefix: inboxPrefixFor(user), requestTimeoutMs: 10_000 });
    buses.push(b);
    return b;
  };
  const admin = await connectAs('admin');
  await admin.ensureStreams();
  await admin.ensureBuckets({ instancesTtlMs: 3000 });
  return {
    nats,
    db,
    store,
    passwords,
    admin,
    connectAs,
    async dispose() {
      for (const b of buses.reverse()) await b.close().catch(() => undefined);
      await store.close();
      await db.drop();
      await nats.dispose();
    },
  };
}

/**
 * A stand-in for one ingress replica speaking the real contract over NATS as user `ingress`:
 * heartbeats into `tf_instances`, watches `tf_killswitch` and acknowledges each change on
 * `tf.ctl.killswitch.ack`. `silent` replicas heartbeat but never acknowledge (a stuck replica).
 */
export async function fakeIngress(env: ControlTestEnv, ingressId: string, options: { silent?: boolean; ackDelayMs?: number } = {}) {
  const bus = await env.connectAs('ingress', `ingress-${ingressId}`);
  const instances = await bus.kv(Buckets.instances);
  const beat = () =>
    instances.put(ingressId, { ingressId, service: 'ingress', startedAt: new Date().toISOString(), heartbeatAt: new Date().toISOString(), proxyUrl: null });
  await beat();
  const timer = setInterval(() => void beat().catch(() => undefined), 500);
  const known = new Map<string, KillSwitchEntry>();
  const acks: KillSwitchAck[] = [];
  const delayed = new Set<NodeJS.Timeout>();
  const ack = (a: KillSwitchAck) => {
    acks.push(a);
    if (options.silent) return;
    const send = () => bus.publish(ControlSubjects.killSwitchAck, a);
    if (!options.ackDelayMs) return send();
    const t = setTimeout(() => {
      delayed.delete(t);
      send();
    }, options.ackDelayMs);
    delayed.add(t);
  };
  let loaded = false;
  const watch: KvWatch<KillSwitchEntry> = await bus.watchKv<KillSwitchEntry>(Buckets.killSwitch, {
    onChange: (c) => {
      if (c.op === 'put') {
        known.set(c.key, c.value);
        if (loaded) ack({ killSwitchId: c.value.killSwitchId, state: 'engaged', ingressId, appliedAt: new Date().toISOString(), cutConnections: 0 });
      } else {
        const prev = known.get(c.key);
        known.delete(c.key);
        if (loaded && prev) ack({ killSwitchId: prev.killSwitchId, state: 'released', ingressId, appliedAt: new Date().toISOString(), cutConnections: 0 });
      }
    },
  });
  await watch.ready;
  loaded = true;
  return {
    ingressId,
    acks,
    engaged: () => [...known.values()],
    async stop() {
      clearInterval(timer);
      for (const t of delayed) clearTimeout(t);
      await watch.stop();
      await (await bus.kv(Buckets.instances)).delete(ingressId).catch(() => undefined);
    },
  };
}
