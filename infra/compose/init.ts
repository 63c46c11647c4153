/**
 * One-shot jobs of the docker-compose deployment, run as the NATS `admin` user:
 *
 *   node infra/compose/init.ts prepare     # before any service: schemas, streams and KV buckets
 *   node infra/compose/init.ts bootstrap   # once control and policy are ready: gateway and policy
 *   node infra/compose/init.ts check       # only checks the settings (exit 1 naming a bad one)
 *   node infra/compose/init.ts describe    # prints the settings it reads, as JSON
 *
 * `prepare` migrates the event store, read-model and ops schemas, and creates TF_EVENTS and every
 * KV bucket replicated `TF_NATS_REPLICAS` times (3 on the three-node cluster), so the services,
 * which may not create or change streams under the permission matrix, find them in place.
 * `bootstrap` creates the default gateway and, if it has no policy yet, publishes
 * `TF_POLICY_FILE`. Both are safe to run again. Settings are environment variables, checked
 * before anything is touched (a bad one exits 1 naming it).
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type, type Static } from '@sinclair/typebox';
import { Kysely, PostgresDialect } from 'kysely';
import { createAuditPool, migrateOps, migrateReadModels } from '@tameflare/audit';
import { ConfigError, DatabaseConfigSchema, describeConfig, loadConfig, NatsConfigSchema } from '@tameflare/config';
import { Buckets, Commands, inboxPrefixFor, type GatewayReply, type PublishPolicyReply } from '@tameflare/contracts';
import { createPostgresEventStore } from '@tameflare/event-store';
import { connectBus, type Bus } from '@tameflare/messaging';

const repoRoot = join(import.meta.dirname, '..', '..');

export const InitConfigSchema = Type.Object({
  nats: NatsConfigSchema,
  database: DatabaseConfigSchema,
  natsReplicas: Type.Integer({ minimum: 1, maximum: 5, default: 3, env: 'TF_NATS_REPLICAS' }),
  gatewayId: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$', default: 'default', env: 'TF_GATEWAY_ID', description: 'a gateway id (lowercase letters, digits, _ and -)' }),
  policyFile: Type.String({ minLength: 1, default: join(repoRoot, 'infra', 'policies', 'default.yaml'), env: 'TF_POLICY_FILE' }),
  waitSeconds: Type.Integer({ minimum: 1, default: 120, env: 'TF_INIT_WAIT_SECONDS' }),
});
export type InitConfig = Static<typeof InitConfigSchema>;

const log = (msg: string) => process.stderr.write(`tameflare-init: ${msg}\n`);

/** Retries `fn` until it succeeds or `seconds` pass: the cluster elects its JetStream leader, services come up. */
async function retry<T>(what: string, seconds: number, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what} failed for ${seconds} s: ${(err as Error).message}`, { cause: err });
      if (attempt === 1 || attempt % 10 === 0) log(`${what}: ${(err as Error).message}; retrying`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

async function connectAdmin(c: InitConfig): Promise<Bus> {
  return retry('connecting to NATS', c.waitSeconds, () =>
    connectBus({
      servers: c.nats.url.split(',').map((s) => s.trim()),
      name: 'tameflare-init',
      ...(c.nats.user ? { user: c.nats.user, pass: c.nats.password ?? '' } : {}),
      ...(c.nats.user === 'admin' ? { inboxPrefix: inboxPrefixFor('admin') } : {}),
      requestTimeoutMs: 30_000,
    }),
  );
}

export async function prepare(c: InitConfig): Promise<void> {
  const store = createPostgresEventStore({ connectionString: c.database.url, applicationName: 'tameflare-init' });
  const pool = createAuditPool({ connectionString: c.database.url, applicationName: 'tameflare-init', max: 2 });
  try {
    await retry('migrating the event store', c.waitSeconds, () => store.migrate());
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
    await migrateReadModels(db);
    await migrateOps(db);
    log('database schemas are up to date');
  } finally {
    await store.close().catch(() => undefined);
    await pool.end().catch(() => undefined);
  }
  const bus = await connectAdmin(c);
  try {
    await retry('creating TF_EVENTS', c.waitSeconds, () => bus.ensureStreams({ replicas: c.natsReplicas }));
    await retry('creating the KV buckets', c.waitSeconds, () => bus.ensureBuckets({ replicas: c.natsReplicas }));
    log(`TF_EVENTS and ${Object.keys(Buckets).length} KV buckets in place, ${c.natsReplicas} replica(s) each`);
  } finally {
    await bus.close();
  }
}

export async function bootstrap(c: InitConfig): Promise<void> {
  const bus = await connectAdmin(c);
  try {
    const gateway = await retry('creating the default gateway', c.waitSeconds, () =>
      bus.request<GatewayReply>(Commands.gatewayCreate, { gatewayId: c.gatewayId, mode: 'enforce', actor: 'compose:tameflare-bootstrap' }),
    );
    log(gateway.created ? `gateway ${c.gatewayId} created` : `gateway ${c.gatewayId} exists`);
    const active = await (await bus.kv(Buckets.policy)).get(c.gatewayId);
    if (active) {
      log(`gateway ${c.gatewayId} already has a policy; not replacing it`);
      return;
    }
    const source = readFileSync(c.policyFile, 'utf8');
    const published = await retry(`publishing ${basename(c.policyFile)}`, c.waitSeconds, () =>
      bus.request<PublishPolicyReply>(Commands.policyPublish, { gatewayId: c.gatewayId, source, fileName: basename(c.policyFile), publishedBy: 'compose:tameflare-bootstrap' }, { timeoutMs: 30_000 }),
    );
    log(`policy version ${published.version} active on ${c.gatewayId}`);
  } finally {
    await bus.close();
  }
}

async function main(): Promise<void> {
  const phase = process.argv[2];
  if (phase === 'describe') {
    process.stdout.write(JSON.stringify(describeConfig(InitConfigSchema)) + '\n');
    return;
  }
  if (phase !== 'prepare' && phase !== 'bootstrap' && phase !== 'check') {
    log('usage: node infra/compose/init.ts prepare|bootstrap|check|describe');
    process.exit(1);
  }
  let config: InitConfig;
  try {
    config = loadConfig(InitConfigSchema);
  } catch (err) {
    log(err instanceof ConfigError ? err.message : String(err));
    process.exit(1);
  }
  if (phase === 'check') {
    log(`settings are valid (NATS user ${config.nats.user ?? '(none)'}, ${config.natsReplicas} replica(s), gateway ${config.gatewayId})`);
    return;
  }
  try {
    await (phase === 'prepare' ? prepare(config) : bootstrap(config));
    process.exit(0);
  } catch (err) {
    log(`${phase} failed: ${(err as Error).message}`);
    process.exit(2);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
