/**
 * The whole request path as separate processes over one private nats-server and one fresh
 * PostgreSQL database: vault, policy, approval and N ingress replicas, each its real
 * `main.ts`; a local HTTPS upstream standing in for api.stripe.com (its own CA, reached through
 * the ingress's upstream override); a run token in `tf_runs`; the stripe connector with its
 * secret stored in the vault; and a policy bundle published through `tf.cmd.policy.publish`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Buckets,
  Commands,
  EventSubjects,
  randomToken,
  sha256Hex,
  uuidv7,
  validateEvent,
  type ConnectorEntry,
  type GatewayEntry,
  type RunEntry,
  type TameFlareEvent,
} from '@tameflare/contracts';
import { connectBus, type Bus, type Listener } from '@tameflare/messaging';
import { createUpstreamTls, startHttpsUpstream, type TestUpstream } from '@tameflare/proxy/testing';
import { createTestDatabase, freePort, startNatsServer, type TestDatabase, type TestNatsServer } from '@tameflare/testing';
import { generateMasterKey, sealSecretValue } from '@tameflare/vault-crypto';
import { isReady, serviceProcess, type ServiceProcess } from './service-process.ts';

export const GATEWAY = 'default';

export interface Stack {
  nats: TestNatsServer;
  db: TestDatabase;
  /** An operator's connection (votes, KV, reading events). */
  bus: Bus;
  stripe: TestUpstream;
  /** The secret the vault holds for the stripe connector. */
  stripeKey: string;
  run: RunEntry;
  token: string;
  /** The gateway CA agents trust, plus nothing else. */
  caPem: string;
  vault: ServiceProcess;
  policy: ServiceProcess;
  approval: ServiceProcess;
  ingress: ServiceProcess[];
  /** `http://tf:<token>@127.0.0.1:<port>` of ingress replica `i`. */
  proxyUrl(i?: number): string;
  /** Every event seen on `tf.evt.>` since the stack started (core NATS, in arrival order). */
  events: TameFlareEvent[];
  stop(): Promise<void>;
}

export interface StackOptions {
  policy: string;
  ingressReplicas?: number;
  /** Extra environment for the ingress replicas. */
  ingressEnv?: Record<string, string>;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'tf-e2e-stack-'));
  const nats = await startNatsServer();
  const db = await createTestDatabase('e2e');
  const bus = await connectBus({ servers: nats.url, name: 'operator@e2e', requestTimeoutMs: 10_000 });
  await bus.ensureStreams();
  await bus.ensureBuckets();
  const events: TameFlareEvent[] = [];
  const tap: Listener = await bus.subscribe(EventSubjects.all, (payload: unknown) => {
    try {
      events.push(validateEvent(payload));
    } catch {
      // not an event
    }
  });

  const tls = await createUpstreamTls(['api.stripe.com']);
  const stripe = await startHttpsUpstream(tls);
  const upstreamCa = join(dir, 'upstream-ca.pem');
  writeFileSync(upstreamCa, tls.ca.certPem);

  const token = randomToken('tfr');
  const run: RunEntry = { runId: uuidv7(), agentId: 'payout-bot', agentName: 'Payout bot', gatewayId: GATEWAY, startedAt: new Date().toISOString() };
  await (await bus.kv(Buckets.runs)).put(sha256Hex(token), run);
  const gateway: GatewayEntry = { gatewayId: GATEWAY, name: 'Default', mode: 'enforce' };
  await (await bus.kv(Buckets.gateways)).put(GATEWAY, gateway);
  const connector: ConnectorEntry = { gatewayId: GATEWAY, connectorId: 'stripe', kind: 'stripe', secretName: 'stripe-key', injection: { kind: 'bearer' }, domains: [], options: {} };
  await (await bus.kv(Buckets.connectors)).put(`${GATEWAY}.stripe`, connector);

  const base = { TF_NATS_URL: nats.url, TF_DATABASE_URL: db.url };
  const healthPort = () => freePort();
  const procs: ServiceProcess[] = [];
  const proc = async (name: string, service: string, env: Record<string, string>) => {
    const port = await healthPort();
    const p = serviceProcess(name, service, { ...base, TF_INSTANCE_ID: name, TF_HEALTH_PORT: String(port), ...env }, () => isReady(port));
    procs.push(p);
    return p;
  };

  try {
    const vault = await proc('vault-1', 'vault', { TF_VAULT_MASTER_KEY: generateMasterKey() });
    const policy = await proc('policy-1', 'policy', {});
    const approval = await proc('approval-1', 'approval', { TF_APPROVAL_HTTP_PORT: String(await freePort()) });
    await Promise.all([vault.start(), policy.start(), approval.start()]);

    const stripeKey = `sk_test_${randomToken('e2e', 18).slice(4)}`;
    const pk = await bus.request<{ publicKey: string }>(Commands.vaultPublicKey, {});
    await bus.request(Commands.vaultSecretPut, {
      gatewayId: GATEWAY,
      name: 'stripe-key',
      box: sealSecretValue(stripeKey, pk.publicKey, { gatewayId: GATEWAY, name: 'stripe-key' }),
      source: 'stdin',
      actor: 'e2e',
      mode: 'set',
    });
    await bus.request(Commands.policyPublish, { gatewayId: GATEWAY, source: options.policy, fileName: 'e2e.yaml', publishedBy: 'e2e' });

    const stateDir = join(dir, 'ingress-state');
    const ingress: ServiceProcess[] = [];
    const proxyPorts: number[] = [];
    for (let i = 0; i < (options.ingressReplicas ?? 1); i++) {
      const port = await freePort();
      proxyPorts.push(port);
      const p = await proc(`ingress-${String.fromCharCode(97 + i)}`, 'ingress', {
        TF_INGRESS_PORT: String(port),
        TF_INGRESS_STATE_DIR: stateDir,
        TF_INGRESS_UPSTREAM_OVERRIDES: `api.stripe.com=${stripe.origin}`,
        TF_INGRESS_UPSTREAM_CA_FILES: upstreamCa,
        TF_INGRESS_APPROVAL_POLL_MS: '500ms',
        ...options.ingressEnv,
      });
      // One after the other: the first creates the interception CA the others load.
      await p.start();
      ingress.push(p);
    }
    const caPem = readFileSync(join(stateDir, 'ca.cert.pem'), 'utf8');

    return {
      nats,
      db,
      bus,
      stripe,
      stripeKey,
      run,
      token,
      caPem,
      vault,
      policy,
      approval,
      ingress,
      proxyUrl: (i = 0) => `http://tf:${token}@127.0.0.1:${proxyPorts[i]}`,
      events,
      async stop() {
        for (const p of procs.reverse()) await p.dispose();
        await tap.stop();
        await bus.close();
        await stripe.close();
        tls.dispose();
        await db.drop();
        await nats.dispose();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    for (const p of procs) {
      process.stderr.write(`--- ${p.name} ---\n${(() => { try { return p.log().slice(-2000); } catch { return ''; } })()}\n`);
      await p.dispose();
    }
    await tap.stop();
    await bus.close();
    await stripe.close();
    await db.drop();
    await nats.dispose();
    throw err;
  }
}
