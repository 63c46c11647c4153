/**
 * The whole TameFlare stack for the dashboard's browser tests, brought up by `@tameflare/stack`
 * (what `tf up` runs): every service as its own process over a private nats-server and a fresh
 * database, the audit API serving the built dashboard. On top: a local HTTPS upstream standing
 * in for api.stripe.com, the stripe connector with its secret in the vault, agent runs with
 * their proxy tokens, and API tokens of each role.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Commands, type RunStartReply } from '@tameflare/contracts';
import type { Bus } from '@tameflare/messaging';
import { createUpstreamTls, startHttpsUpstream, type TestUpstream } from '@tameflare/proxy/testing';
import { connectAdmin, readAdminToken, startStack, stopStack, type StackInfo } from '@tameflare/stack';
import { createTestDatabase, type TestDatabase } from '@tameflare/testing';
import { sealSecretValue } from '@tameflare/vault-crypto';

export const GATEWAY = 'default';

export interface AgentRun {
  runId: string;
  agentId: string;
  /** `http://tf:<token>@127.0.0.1:<port>`: what `tf run` hands the agent. */
  proxyUrl: string;
}

export interface DashboardStack {
  info: StackInfo;
  /** `http://127.0.0.1:<port>/`: the dashboard. */
  baseUrl: string;
  graphqlUrl: string;
  /** An operator's NATS connection (admin user). */
  bus: Bus;
  stripe: TestUpstream;
  stripeKey: string;
  /** The gateway CA an agent trusts. */
  caPem: string;
  tokens: { admin: string; approver: string; viewer: string };
  /** Registers an agent run through the control service, as `tf run` does. */
  startRun(agentName: string, command: string): Promise<AgentRun>;
  /** Publishes a new policy version to the default gateway. */
  publishPolicy(source: string, fileName: string): Promise<number>;
  /** POSTs a GraphQL operation with a token. */
  graphql<T = any>(token: string, query: string, variables?: Record<string, unknown>): Promise<{ status: number; body: { data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[] } }>;
  stop(): Promise<void>;
}

export async function startDashboardStack(): Promise<DashboardStack> {
  const dir = mkdtempSync(join(tmpdir(), 'tf-dashboard-e2e-'));
  const stateDir = join(dir, 'state');
  const db: TestDatabase = await createTestDatabase('dashboard');
  const tls = await createUpstreamTls(['api.stripe.com']);
  const stripe = await startHttpsUpstream(tls);
  const upstreamCa = join(dir, 'upstream-ca.pem');
  writeFileSync(upstreamCa, tls.ca.certPem);
  let bus: Bus | null = null;
  let started = false;
  const cleanup = async () => {
    await bus?.close().catch(() => undefined);
    if (started) await stopStack({ stateDir, graceMs: 5000 }).catch(() => undefined);
    await stripe.close();
    tls.dispose();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    started = true;
    const { info } = await startStack({
      stateDir,
      databaseUrl: db.url,
      actor: 'e2e',
      readyTimeoutMs: 120_000,
      env: {
        ingress: {
          TF_INGRESS_UPSTREAM_OVERRIDES: `api.stripe.com=${stripe.origin}`,
          TF_INGRESS_UPSTREAM_CA_FILES: upstreamCa,
          TF_INGRESS_APPROVAL_POLL_MS: '500ms',
        },
      },
    });
    const admin = await connectAdmin(stateDir, { name: 'operator@dashboard-e2e', requestTimeoutMs: 15_000 });
    bus = admin.bus;
    const b = bus;
    const adminToken = readAdminToken(stateDir);
    if (!adminToken) throw new Error('the stack issued no bootstrap admin token');

    const stripeKey = `sk_test_dashboard_${Date.now().toString(36)}`;
    const pk = await b.request<{ publicKey: string }>(Commands.vaultPublicKey, {});
    await b.request(Commands.vaultSecretPut, {
      gatewayId: GATEWAY,
      name: 'stripe-key',
      box: sealSecretValue(stripeKey, pk.publicKey, { gatewayId: GATEWAY, name: 'stripe-key' }),
      source: 'stdin',
      actor: 'e2e',
      mode: 'set',
    });
    await b.request(Commands.connectorConfigure, {
      gatewayId: GATEWAY,
      connectorId: 'stripe',
      kind: 'stripe',
      secretName: 'stripe-key',
      injection: { kind: 'bearer' },
      domains: [],
      options: {},
      actor: 'e2e',
    });

    const graphqlUrl = info.graphqlUrl;
    const graphql: DashboardStack['graphql'] = async (token, query, variables = {}) => {
      const res = await fetch(graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
      return { status: res.status, body: (await res.json()) as never };
    };
    const issue = async (name: string, role: 'VIEWER' | 'APPROVER') => {
      const r = await graphql<{ issueApiToken: { token: string } }>(adminToken, 'mutation ($n: String!, $r: Role!) { issueApiToken(name: $n, role: $r) { token } }', { n: name, r: role });
      if (!r.body.data) throw new Error(`issueApiToken ${name}: ${JSON.stringify(r.body.errors)}`);
      return r.body.data.issueApiToken.token;
    };
    const tokens = { admin: adminToken, approver: await issue('alice', 'APPROVER'), viewer: await issue('victor', 'VIEWER') };
    const proxy = info.proxies[0]!.url;
    return {
      info,
      baseUrl: graphqlUrl.replace(/graphql$/, ''),
      graphqlUrl,
      bus: b,
      stripe,
      stripeKey,
      caPem: readFileSync(info.caCertFile, 'utf8'),
      tokens,
      async startRun(agentName, command) {
        const r = await b.request<RunStartReply>(Commands.runStart, { agentName, gatewayId: GATEWAY, command, hostname: hostname(), pid: process.pid, startedBy: 'e2e' });
        const u = new URL(proxy);
        u.username = 'tf';
        u.password = r.token;
        return { runId: r.runId, agentId: r.agentId, proxyUrl: u.toString().replace(/\/$/, '') };
      },
      async publishPolicy(source, fileName) {
        const r = await b.request<{ version: number }>(Commands.policyPublish, { gatewayId: GATEWAY, source, fileName, publishedBy: 'e2e' }, { timeoutMs: 30_000 });
        return r.version;
      },
      graphql,
      stop: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
