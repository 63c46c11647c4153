/**
 * A control plane for ingress tests: a private nats-server with the streams and buckets, a run
 * and connectors in KV, local upstreams behind overrides, and a policy responder on
 * `tf.cmd.policy.decide` that implements the contract with the real policy engine: it records
 * ActionDecided in JetStream before it replies, and seals the connector's secret to the asking
 * ingress with libs/vault-crypto, as the policy and vault services do.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { loadConfig } from '@tameflare/config';
import {
  Buckets,
  Commands,
  createEvent,
  randomToken,
  sha256Hex,
  uuidv7,
  validateEvent,
  type ConnectorEntry,
  type DecideReply,
  type DecideRequest,
  type EnforcementMode,
  type EventEnvelope,
  type RunEntry,
  type TameFlareEvent,
} from '@tameflare/contracts';
import { connectBus, type Bus, type Listener } from '@tameflare/messaging';
import { buildInput, compileBundle, decidedEventData, evaluate } from '@tameflare/policy-engine';
import { createUpstreamTls, startHttpUpstream, startHttpsUpstream, type TestUpstream } from '@tameflare/proxy/testing';
import { startNatsServer, type TestNatsServer } from '@tameflare/testing';
import { sealCredential } from '@tameflare/vault-crypto';
import { jetstream } from '@nats-io/jetstream';
import { IngressSettingsSchema, type IngressSettings } from '../config.ts';
import { startIngress, type Ingress } from '../ingress.ts';

export const GATEWAY = 'gw-test';
export const POLICY = `
version: 1
name: ingress-test
rules:
  - id: deny-repo-delete
    effect: deny
    match: { actions: [github.repo.delete] }
    reason: Repository deletion is not allowed through agents
  - id: approve-merge
    effect: require_approval
    match: { actions: [github.pr.merge] }
    reason: Merging needs a human approval
    approval: { timeout: 1h, approvers: [approver], quorum: 1 }
  - id: allow-github
    effect: allow
    match: { actions: ["github.**"] }
  - id: allow-files
    effect: allow
    match: { actions: ["*.**"], connectors: [files] }
`;

export interface Harness {
  nats: TestNatsServer;
  /** A client connection for the test itself. */
  bus: Bus;
  /** The bus the ingress uses. */
  ingressBus: Bus;
  ingress: Ingress;
  token: string;
  run: RunEntry;
  secret: string;
  github: TestUpstream;
  files: TestUpstream;
  /** `http://tf:<token>@host:port` */
  proxyUrl: string;
  /** PEM agents trust: the gateway CA. */
  caPem: string;
  /** Switch the responder to monitor mode, or make it fail. */
  policy: { mode: EnforcementMode; down: boolean; decisions: number };
  /** Every event in TF_EVENTS, read back from the stream (what is durable). */
  streamEvents(): Promise<TameFlareEvent[]>;
  stop(): Promise<void>;
}

export async function settingsFrom(env: Record<string, string>): Promise<IngressSettings> {
  return loadConfig(Type.Object({ ingress: IngressSettingsSchema }), { env }).ingress;
}

export async function startHarness(options: { env?: Record<string, string> } = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'tf-ingress-'));
  const nats = await startNatsServer();
  const bus = await connectBus({ servers: nats.url, name: 'test' });
  await bus.ensureStreams();
  await bus.ensureBuckets();

  const githubTls = await createUpstreamTls(['api.github.com']);
  const filesTls = await createUpstreamTls(['files.example.test']);
  const github = await startHttpsUpstream(githubTls);
  const files = await startHttpUpstream();
  writeFileSync(join(dir, 'upstream-ca.pem'), githubTls.ca.certPem + '\n' + filesTls.ca.certPem);

  const token = randomToken('tfr');
  const run: RunEntry = { runId: uuidv7(), agentId: 'agent-1', agentName: 'Agent one', gatewayId: GATEWAY, startedAt: new Date().toISOString() };
  await (await bus.kv(Buckets.runs)).put(sha256Hex(token), run);
  const secret = `ghp_${randomToken('x', 18).slice(2)}`;
  const connectors: ConnectorEntry[] = [
    { gatewayId: GATEWAY, connectorId: 'github', kind: 'github', secretName: 'github-token', injection: { kind: 'bearer' }, domains: [], options: {} },
    { gatewayId: GATEWAY, connectorId: 'files', kind: 'http', secretName: null, injection: null, domains: ['files.example.test'], options: {} },
  ];
  const kv = await bus.kv(Buckets.connectors);
  for (const c of connectors) await kv.put(`${c.gatewayId}.${c.connectorId}`, c);

  const bundle = compileBundle(POLICY, { fileName: 'ingress-test.yaml', version: 1 });
  const policy = { mode: 'enforce' as EnforcementMode, down: false, decisions: 0 };
  const responder: Listener = await bus.serve({ subject: Commands.policyDecide.subject, queue: Commands.policyDecide.queue }, async (payload: DecideRequest): Promise<DecideReply> => {
    if (policy.down) throw new Error('policy responder is down');
    policy.decisions++;
    const requested = validateEvent(payload.requested) as EventEnvelope<'ActionRequested'>;
    const input = buildInput(requested.data, new Date());
    const result = evaluate(bundle, input);
    const decided = createEvent(
      'ActionDecided',
      decidedEventData(requested.data, input, result, { mode: policy.mode, evaluationMicros: 1, policy: { version: bundle.version, hash: bundle.hash } }),
      { correlationId: requested.metadata.correlationId, causationId: requested.id, source: 'policy@test' },
    );
    await bus.publishEvent(decided);
    const connector = connectors.find((c) => c.connectorId === requested.data.action.connector);
    const upstream = result.decision === 'allow' || policy.mode === 'monitor';
    const credential =
      upstream && connector?.secretName && connector.injection
        ? sealCredential(
            Buffer.from(secret),
            payload.ingress.publicKey,
            { actionId: requested.data.actionId, ingressId: payload.ingress.id, secretName: connector.secretName, secretVersion: 1 },
            connector.injection,
          )
        : null;
    const approval =
      result.decision === 'require_approval' && policy.mode === 'enforce'
        ? { approvalId: uuidv7(), status: 'pending' as const, expiresAt: new Date(Date.now() + 3600_000).toISOString() }
        : null;
    return { decided, credential, approval };
  });

  const env = {
    TF_INGRESS_PORT: '0',
    TF_INGRESS_STATE_DIR: join(dir, 'state'),
    TF_INGRESS_UPSTREAM_OVERRIDES: `api.github.com=${github.origin},files.example.test=${files.origin}`,
    TF_INGRESS_UPSTREAM_CA_FILES: join(dir, 'upstream-ca.pem'),
    TF_INGRESS_DECISION_TIMEOUT_MS: '2s',
    ...options.env,
  };
  const ingressBus = await connectBus({ servers: nats.url, name: 'ingress@test', reconnectTimeWaitMs: 100 });
  const silent = { debug() {}, info() {}, warn() {}, error() {} };
  const ingress = await startIngress({ bus: ingressBus, settings: await settingsFrom(env), ingressId: 'ingress-a', logger: silent });
  const proxyUrl = ingress.url.replace('http://', `http://tf:${token}@`);

  return {
    nats,
    bus,
    ingressBus,
    ingress,
    token,
    run,
    secret,
    github,
    files,
    proxyUrl,
    caPem: ingress.caCertPem,
    policy,
    async streamEvents() {
      const js = jetstream(bus.nc);
      const consumer = await js.consumers.get('TF_EVENTS');
      const info = await (await js.streams.get('TF_EVENTS')).info();
      const out: TameFlareEvent[] = [];
      if (info.state.messages === 0) return out;
      const msgs = await consumer.fetch({ max_messages: info.state.messages, expires: 2000 });
      for await (const m of msgs) {
        out.push(validateEvent(m.json()));
        if (m.info.pending === 0) break;
      }
      return out;
    },
    async stop() {
      await ingress.stop(500).catch(() => undefined);
      await responder.stop().catch(() => undefined);
      await ingressBus.close().catch(() => undefined);
      await bus.close().catch(() => undefined);
      await github.close();
      await files.close();
      githubTls.dispose();
      filesTls.dispose();
      await nats.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
