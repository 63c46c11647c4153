/**
 * The whole TameFlare stack for end-to-end tests, brought up exactly as `tf up` does it
 * (`@tameflare/stack`: every service as its own process over a private nats-server, each as its
 * NATS user of the permission matrix) in a state directory, database and set of ports of its
 * own, so test files never collide. On top: local fake upstreams over HTTPS for the providers a
 * test needs (reached through the ingress's upstream overrides), their connectors enabled, and
 * their credentials stored in the vault. Tests then drive the real `tf` CLI against it.
 */
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Commands, type PublishPolicyReply, type RunStartReply } from '@tameflare/contracts';
import { createPostgresEventStore } from '@tameflare/event-store';
import type { Bus } from '@tameflare/messaging';
import { configureConnector, connectAdmin, readAdminToken, setSecret, startStack, stopStack, type StackInfo } from '@tameflare/stack';
import { startFakeUpstreams, type FakeProvider, type FakeUpstream, type FakeUpstreams } from '@tameflare/stack/fake-upstreams';
import { createTestDatabase, type TestDatabase } from '@tameflare/testing';
import { spawnTf, tf, type TfOptions, type TfProcess, type TfResult } from './tf-process.ts';

export const GATEWAY = 'default';

export interface TfStackOptions {
  /** Fake APIs to start, each with its connector and secret (default github and stripe). */
  providers?: FakeProvider[];
  ingressReplicas?: number;
  /** A policy (YAML) published over the default one after start. */
  policy?: string;
  /** Extra environment for every ingress replica. */
  ingressEnv?: Record<string, string>;
}

export interface TfStack {
  stateDir: string;
  info: StackInfo;
  db: TestDatabase;
  /** An operator's NATS connection (the admin user, as the CLI uses). */
  bus: Bus;
  fakes: FakeUpstreams;
  upstream(provider: FakeProvider): FakeUpstream;
  /** The credential the vault holds for a provider: only the fake upstream may ever see it. */
  secret(provider: FakeProvider): string;
  /** PEM of the gateway CA. */
  caPem: string;
  adminToken: string;
  /** Runs the real `tf` CLI against this stack. */
  tf(args: string[], options?: Omit<TfOptions, 'stateDir'>): Promise<TfResult>;
  spawnTf(args: string[], options?: Omit<TfOptions, 'stateDir'>): TfProcess;
  /** GraphQL on the audit API with the bootstrap admin token. */
  graphql<T>(query: string, variables?: Record<string, unknown>): Promise<T>;
  /**
   * Registers a run through the control service as `tf run` does, for tests that drive a proxy
   * replica by hand; returns its proxy URL for replica `i`.
   */
  startRun(agentName: string): Promise<RunStartReply & { proxyUrl(i?: number): string }>;
  /** Every event of the event store of one type, oldest first. */
  storedEvents(type: string): Promise<{ type: string; data: Record<string, unknown> }[]>;
  stop(): Promise<void>;
}

export async function startTfStack(options: TfStackOptions = {}): Promise<TfStack> {
  const dir = mkdtempSync(join(tmpdir(), 'tf-e2e-'));
  const stateDir = join(dir, 'state');
  const providers = options.providers ?? ['github', 'stripe'];
  const secrets = Object.fromEntries(providers.map((p) => [p, `${p}_secret_${randomBytes(12).toString('hex')}`])) as Record<FakeProvider, string>;
  const db = await createTestDatabase('e2e_tf');
  const fakes = await startFakeUpstreams({ dir: join(dir, 'fakes'), secrets });
  let bus: Bus | undefined;
  let started = false;
  const cleanup = async () => {
    await bus?.close().catch(() => undefined);
    if (started) await stopStack({ stateDir, graceMs: 5000 }).catch(() => undefined);
    // TF_E2E_KEEP_LOGS=<dir>: keep every process's log of this stack for a post-mortem.
    if (process.env.TF_E2E_KEEP_LOGS) cpSync(join(stateDir, 'logs'), join(process.env.TF_E2E_KEEP_LOGS, `${Date.now()}-${randomBytes(3).toString('hex')}`), { recursive: true });
    await fakes.close();
    await db.drop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const up = await startStack({
      stateDir,
      databaseUrl: db.url,
      replicas: { ingress: options.ingressReplicas ?? 1 },
      env: { ingress: { TF_INGRESS_UPSTREAM_OVERRIDES: fakes.overrides, TF_INGRESS_UPSTREAM_CA_FILES: fakes.caFile, ...(options.ingressEnv ?? {}) } },
      actor: 'e2e',
      logLevel: 'warn',
    });
    started = true;
    const admin = await connectAdmin(stateDir);
    bus = admin.bus;
    for (const p of providers) {
      await setSecret(bus, { gatewayId: GATEWAY, name: `${p}-token`, value: secrets[p], actor: 'e2e' });
      await configureConnector(bus, { gatewayId: GATEWAY, connectorId: p, kind: p, secretName: `${p}-token`, actor: 'e2e' });
    }
    if (options.policy) {
      await bus.request<PublishPolicyReply>(Commands.policyPublish, { gatewayId: GATEWAY, source: options.policy, fileName: 'e2e.yaml', publishedBy: 'e2e' }, { timeoutMs: 30_000 });
    }
    const adminToken = readAdminToken(stateDir)!;
    const caPem = readFileSync(up.info.caCertFile, 'utf8');
    const adminBus = bus;
    const store = createPostgresEventStore({ connectionString: db.url, maxConnections: 2 });
    return {
      stateDir,
      info: up.info,
      db,
      bus: adminBus,
      fakes,
      upstream: (p) => fakes.byProvider[p] ?? (() => { throw new Error(`no fake ${p} in this stack`); })(),
      secret: (p) => secrets[p],
      caPem,
      adminToken,
      tf: (args, o = {}) => tf(args, { ...o, stateDir }),
      spawnTf: (args, o = {}) => spawnTf(args, { ...o, stateDir }),
      async graphql<T>(query: string, variables: Record<string, unknown> = {}) {
        const res = await fetch(up.info.graphqlUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
          body: JSON.stringify({ query, variables }),
        });
        const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
        if (body.errors?.length || !body.data) throw new Error(`GraphQL: ${body.errors?.[0]?.message ?? res.status}`);
        return body.data;
      },
      async startRun(agentName) {
        const run = await adminBus.request<RunStartReply>(Commands.runStart, { agentName, gatewayId: GATEWAY, command: 'e2e', hostname: 'e2e', pid: process.pid, startedBy: 'e2e' });
        return { ...run, proxyUrl: (i = 0) => `http://tf:${run.token}@${up.info.proxies[i]!.url.replace(/^http:\/\//, '')}` };
      },
      async storedEvents(type) {
        const r = await store.pool.query(`SELECT event_type AS type, data FROM ${store.schema}.events WHERE event_type = $1 ORDER BY global_position`, [type]);
        return r.rows as { type: string; data: Record<string, unknown> }[];
      },
      async stop() {
        await store.close().catch(() => undefined);
        await cleanup();
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** One action of a run as the audit API answers it. */
export interface AuditedAction {
  type: string;
  requestedAt: string;
  decided: { decision: string; decidingRule: string | null; reason: string } | null;
  credential: { secretName: string } | null;
  completion: { outcome: string; status: number | null } | null;
}

/** The audit record of a run's actions, waiting until `expected` are projected with their completion. */
export async function auditedActions(stack: TfStack, runId: string, expected: number): Promise<AuditedAction[]> {
  const query = `query($runId: ID!) { actions(filter: { runId: $runId }, first: 50) { nodes { type requestedAt decided { decision decidingRule reason } credential { secretName } completion { outcome status } } } }`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    const data = await stack.graphql<{ actions: { nodes: AuditedAction[] } }>(query, { runId });
    const nodes = data.actions.nodes;
    if ((nodes.length >= expected && nodes.every((n) => n.completion)) || Date.now() > deadline) {
      // The API pages newest first by (requestedAt, action id); reversing it is oldest first, ties included.
      return [...nodes].reverse();
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
