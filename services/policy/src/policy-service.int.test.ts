import { readFileSync } from 'node:fs';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Buckets,
  Commands,
  isTameFlareError,
  PolicyHistoryCommand,
  type DecideReply,
  type EventEnvelope,
  type PolicyEntry,
  type PolicyHistoryReply,
  type PublishPolicyReply,
} from '@tameflare/contracts';
import type { PostgresEventStore } from '@tameflare/event-store';
import { connectBus, type Bus } from '@tameflare/messaging';
import { compileBundle, rebuildSessions, sessionKey, verifyDecisions, type CompiledBundle, type RecordedDecision } from '@tameflare/policy-engine';
import { createTestDatabase, startNatsServer, waitFor, type TestDatabase, type TestNatsServer } from '@tameflare/testing';
import { openCredential } from '@tameflare/vault-crypto';
import { ingressKey, openStore, requested, startDownstream, startReplica, streamEvents, type Downstream, type Replica } from './test/support.ts';

let nats: TestNatsServer;
let db: TestDatabase;
let store: PostgresEventStore;
let client: Bus;
let downstream: Downstream;
const replicas: Replica[] = [];
const ingress = ingressKey();

/** What an ingress does: record ActionRequested in JetStream and, in parallel, ask for a decision. */
async function decide(req: EventEnvelope<'ActionRequested'>): Promise<DecideReply & { decided: EventEnvelope<'ActionDecided'> }> {
  const [, reply] = await Promise.all([client.publishEvent(req), client.request<DecideReply>(Commands.policyDecide, { requested: req, ingress: { id: ingress.id, publicKey: ingress.publicKey } })]);
  return reply as DecideReply & { decided: EventEnvelope<'ActionDecided'> };
}

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string; details?: Record<string, unknown> }> {
  try {
    await p;
  } catch (err) {
    if (isTameFlareError(err)) return { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) };
    throw err;
  }
  throw new Error('expected a failure');
}

const publish = (gatewayId: string, source: string, extra: { expectedVersion?: number; fileName?: string } = {}) =>
  client.request<PublishPolicyReply>(Commands.policyPublish, { gatewayId, source, fileName: extra.fileName ?? 'policy.yaml', publishedBy: 'alice', ...extra });

beforeAll(async () => {
  nats = await startNatsServer();
  db = await createTestDatabase('policy');
  store = await openStore(db.url);
  client = await connectBus({ servers: nats.url, name: 'ingress@test', requestTimeoutMs: 10_000, ackTimeoutMs: 5000 });
  await client.ensureStreams();
  await client.ensureBuckets();
  downstream = await startDownstream(nats.url);
  replicas.push(await startReplica(nats.url, store, 'a'), await startReplica(nats.url, store, 'b'));
});

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
  await downstream?.stop();
  await client?.close();
  await store?.close();
  await db?.drop();
  await nats?.dispose();
});

const v1 = `version: 1
rules:
  - id: v1-allow-merge
    effect: allow
    match: { actions: [github.pr.merge] }
  - id: v1-all
    effect: allow
    match: { actions: ["**"] }
`;
const v2 = `version: 1
rules:
  - id: v2-deny-merge
    effect: deny
    match: { actions: [github.pr.merge] }
    reason: Merges are frozen
  - id: v2-all
    effect: allow
    match: { actions: ["**"] }
`;

describe('publishing bundles', () => {
  it('records each version in the event store, activates it in KV and every replica switches within a second', async () => {
    const swaps: Record<string, number> = {};
    const offs = replicas.map((r) => r.service.registry.onSwap((gw, s) => gw === 'rollout' && s?.version === 2 && (swaps[r.name] = Date.now())));
    expect(await publish('rollout', v1)).toEqual({ gatewayId: 'rollout', version: 1, hash: compileBundle(v1).hash, ruleCount: 2 });
    await waitFor(() => replicas.every((r) => r.service.registry.get('rollout')?.version === 1), { what: 'v1 everywhere' });
    const sent = Date.now();
    expect((await publish('rollout', v2, { expectedVersion: 1 })).version).toBe(2);
    // The issue's bar: every replica switches within a second of the publish.
    await waitFor(() => Object.keys(swaps).length === 2, { timeoutMs: 1000, intervalMs: 5, what: 'both replicas on v2' });
    for (const at of Object.values(swaps)) expect(at - sent).toBeLessThan(1000);
    offs.forEach((off) => off());
    const stored = await store.readStream('policy-rollout');
    expect(stored.events.map((e) => [e.event.type, (e.event.data as { version: number }).version])).toEqual([
      ['PolicyBundlePublished', 1],
      ['PolicyBundlePublished', 2],
    ]);
    const kv = await (await client.kv(Buckets.policy)).get<PolicyEntry>('rollout');
    expect(kv?.value).toMatchObject({ gatewayId: 'rollout', version: 2, hash: compileBundle(v2).hash, source: v2 });
  });

  it('keeps the version history queryable', async () => {
    const h = await client.request<PolicyHistoryReply>(PolicyHistoryCommand, { gatewayId: 'rollout', includeSource: true });
    expect(h.active).toBe(2);
    expect(h.versions.map((v) => [v.version, v.hash, v.ruleCount, v.publishedBy, v.source])).toEqual([
      [1, compileBundle(v1).hash, 2, 'alice', v1],
      [2, compileBundle(v2).hash, 2, 'alice', v2],
    ]);
  });

  it('refuses an invalid bundle with every positioned error, and nothing changes', async () => {
    const bad = 'version: 1\nrules:\n  - id: x\n    efect: deny\n    match: { actions: [github] }\n    when: action.nope > 1\n';
    const err = await failure(publish('rollout', bad, { fileName: 'bad.yaml' }));
    expect(err.code).toBe('TF_ERR_POLICY_INVALID');
    expect(err.message.split('\n').slice(1)).toEqual([
      'bad.yaml:3:5: rule 1 is missing required field "effect"',
      'bad.yaml:4:5: unknown field "efect" in rule 1 (did you mean "effect"?); allowed: id, description, effect, match, when, reason, approval',
      'bad.yaml:5:24: action glob "github" matches nothing: action types have at least two segments; use "github.**" to match every github action',
      'bad.yaml:6:18: rule "x": unknown field "action.nope"; known fields: type, connector, resource, params, risk, operationId, notes',
    ]);
    expect((err.details?.issues as unknown[]).length).toBe(4);
    expect((await store.readStream('policy-rollout')).events).toHaveLength(2);
    expect(replicas.map((r) => r.service.registry.get('rollout')?.version)).toEqual([2, 2]);
  });

  it('refuses a stale expectedVersion, and re-applying the same content makes no new version', async () => {
    expect(await failure(publish('rollout', v1, { expectedVersion: 1 }))).toMatchObject({ code: 'TF_ERR_POLICY_VERSION_CONFLICT', details: { currentVersion: 2 } });
    expect((await publish('rollout', v2)).version).toBe(2);
    expect((await store.readStream('policy-rollout')).events).toHaveLength(2);
  });
});

describe('deciding while a bundle is published', () => {
  it('never decides a request with a mix of versions, and records the version of every decision', async () => {
    await publish('mix', v1);
    await waitFor(() => replicas.every((r) => r.service.registry.get('mix')?.version === 1));
    const replies: DecideReply[] = [];
    let stop = false;
    let switchedAt = 0;
    const worker = async () => {
      while (!stop) replies.push(await decide(requested({ type: 'github.pr.merge' }, { gatewayId: 'mix' })));
    };
    const workers = Array.from({ length: 16 }, worker);
    await waitFor(() => replies.length > 150, { timeoutMs: 20_000 });
    await publish('mix', v2);
    switchedAt = replies.length;
    await waitFor(() => replies.length > switchedAt + 300, { timeoutMs: 30_000 });
    stop = true;
    await Promise.all(workers);

    const decided = replies.map((r) => (r.decided as EventEnvelope<'ActionDecided'>).data);
    const byVersion = { 1: 0, 2: 0 } as Record<number, number>;
    for (const d of decided) {
      byVersion[d.policy!.version]!++;
      if (d.policy!.version === 1) expect(d).toMatchObject({ decision: 'allow', decidingRule: 'v1-allow-merge', matchedRules: ['v1-allow-merge', 'v1-all'], policy: { hash: compileBundle(v1).hash } });
      else expect(d).toMatchObject({ decision: 'deny', decidingRule: 'v2-deny-merge', matchedRules: ['v2-deny-merge', 'v2-all'], reason: 'Merges are frozen', policy: { hash: compileBundle(v2).hash } });
    }
    expect(byVersion[1]).toBeGreaterThan(150);
    expect(byVersion[2]).toBeGreaterThan(250);
    // Both replicas answered with both versions.
    const sources = new Set(replies.map((r) => `${(r.decided as EventEnvelope).metadata.source}:${(r.decided as EventEnvelope<'ActionDecided'>).data.policy!.version}`));
    expect(sources).toEqual(new Set(['policy@a:1', 'policy@a:2', 'policy@b:1', 'policy@b:2']));
    // The last replies were all decided with v2: once switched, a replica never goes back.
    expect(decided.slice(-100).every((d) => d.policy!.version === 2)).toBe(true);

    // Every reply was recorded in JetStream exactly as replied.
    const recorded = new Map((await streamEvents(client, 'tf.evt.action.decided.mix')).map((e) => [e.id, e]));
    for (const r of replies) expect(recorded.get((r.decided as EventEnvelope).id)).toEqual(r.decided);
  });
});

const sessionBundle = `version: 1
aggregates:
  refunds_hour:
    scope: agent
    window: 1h
    actions: [stripe.refund.create]
    count: true
  refunded_run:
    scope: run
    window: 1d
    actions: [stripe.refund.create]
    sum: amount
rules:
  - id: refund-limit
    effect: deny
    match: { actions: [stripe.refund.create] }
    when: session.refunds_hour >= 5
    reason: At most 5 refunds per hour
  - id: refunds
    effect: allow
    match: { actions: [stripe.refund.create] }
`;

describe('session-aware policy across replicas', () => {
  it('two replicas deciding concurrently never let the sixth refund through under a limit of 5', async () => {
    await publish('sess', sessionBundle);
    await waitFor(() => replicas.every((r) => r.service.registry.get('sess')?.version === 1));
    for (const agentId of ['refund-bot-1', 'refund-bot-2', 'refund-bot-3']) {
      const replies = await Promise.all(
        Array.from({ length: 14 }, (_, i) => decide(requested({ type: 'stripe.refund.create', params: { amount: 100 + i } }, { gatewayId: 'sess', agentId }))),
      );
      const decisions = replies.map((r) => (r.decided as EventEnvelope<'ActionDecided'>).data);
      expect(decisions.filter((d) => d.decision === 'allow')).toHaveLength(5);
      expect(decisions.filter((d) => d.decision === 'deny').every((d) => d.decidingRule === 'refund-limit' && d.session?.refunds_hour === 5)).toBe(true);
      // Both replicas took part.
      expect(new Set(replies.map((r) => (r.decided as EventEnvelope).metadata.source)).size).toBe(2);
      // The allowed ones saw 0..4 earlier refunds, each value once: the decisions were serialized.
      expect(decisions.filter((d) => d.decision === 'allow').map((d) => d.session!.refunds_hour).sort()).toEqual([0, 1, 2, 3, 4]);
      const kv = await (await client.kv(Buckets.sessions)).get<{ v: number; entries: { id: string }[] }>(sessionKey('sess', agentId));
      expect(kv!.value.entries.map((e) => e.id).sort()).toEqual(decisions.filter((d) => d.decision === 'allow').map((d) => d.actionId).sort());
    }
  });

  it('a new replica, with no memory of its own, enforces the same limit from the shared state', async () => {
    const fresh = await startReplica(nats.url, store, 'c');
    try {
      await Promise.all(replicas.map((r) => r.service.stop()));
      const d = await decide(requested({ type: 'stripe.refund.create', params: { amount: 1 } }, { gatewayId: 'sess', agentId: 'refund-bot-1' }));
      expect((d.decided as EventEnvelope).metadata.source).toBe('policy@c');
      expect((d.decided as EventEnvelope<'ActionDecided'>).data).toMatchObject({ decision: 'deny', decidingRule: 'refund-limit', session: { refunds_hour: 5 } });
      const other = await decide(requested({ type: 'stripe.refund.create', params: { amount: 1 } }, { gatewayId: 'sess', agentId: 'refund-bot-9' }));
      expect((other.decided as EventEnvelope<'ActionDecided'>).data).toMatchObject({ decision: 'allow', session: { refunds_hour: 0 } });
    } finally {
      await fresh.stop();
      replicas.splice(0, replicas.length, await startReplica(nats.url, store, 'a'), await startReplica(nats.url, store, 'b'));
    }
  });
});

describe('the request path', () => {
  const edge = `version: 1
rules:
  - id: allow-reads
    effect: allow
    match: { actions: ["**"] }
    when: action.risk == "read"
  - id: merge-needs-approval
    effect: require_approval
    match: { actions: [github.pr.merge] }
    approval: { timeout: 10m, approvers: [admin], quorum: 2 }
  - id: needs-amount
    effect: allow
    match: { actions: [stripe.refund.create] }
    when: action.params.amount < 100
`;

  beforeAll(async () => {
    await publish('edge', edge);
    await publish('watch', edge);
    const gateways = await client.kv(Buckets.gateways);
    await gateways.put('watch', { gatewayId: 'watch', name: 'Watch', mode: 'monitor' });
    await gateways.put('edge', { gatewayId: 'edge', name: 'Edge', mode: 'enforce' });
    const connectors = await client.kv(Buckets.connectors);
    for (const gw of ['edge', 'watch']) {
      await connectors.put(`${gw}.github`, { gatewayId: gw, connectorId: 'github', kind: 'github', secretName: 'github-token', injection: { kind: 'bearer' }, domains: [], options: {} });
      await connectors.put(`${gw}.stripe`, { gatewayId: gw, connectorId: 'stripe', kind: 'stripe', secretName: 'stripe-key', injection: { kind: 'basic' }, domains: [], options: {} });
    }
    downstream.secrets.set('github-token', 'ghp_policyIntegration0123456789');
    await waitFor(() => replicas.every((r) => r.service.registry.get('edge') && r.service.registry.get('watch')));
  });

  it('allow: records the decision and hands back the credential sealed to the asking ingress', async () => {
    const req = requested({ type: 'github.repo.get', risk: 'read' }, { gatewayId: 'edge' });
    const reply = await decide(req);
    expect(reply.decided.data).toMatchObject({ decision: 'allow', enforced: true, mode: 'enforce', decidingRule: 'allow-reads', decidedBy: 'policy', error: null });
    expect(reply.decided.metadata).toMatchObject({ causationId: req.id, correlationId: req.metadata.correlationId });
    expect(openCredential(reply.credential!, ingress.privateKey, { actionId: req.data.actionId, ingressId: ingress.id })).toBe('ghp_policyIntegration0123456789');
    expect(downstream.releases.at(-1)).toMatchObject({ actionId: req.data.actionId, secretName: 'github-token', authorizedBy: reply.decided.id, ingress: { id: ingress.id } });
    expect(JSON.stringify(reply.decided)).not.toContain('ghp_');
  });

  it('require_approval: opens the approval after recording, and returns it with the requirement', async () => {
    const before = downstream.releases.length;
    const reply = await decide(requested({ type: 'github.pr.merge' }, { gatewayId: 'edge' }));
    expect(reply.decided.data).toMatchObject({ decision: 'require_approval', approval: { approverRoles: ['admin'], quorum: 2, timeoutMs: 600_000 } });
    expect(reply.approval).toMatchObject({ status: 'pending' });
    expect(reply.credential).toBeNull();
    expect(downstream.releases.length).toBe(before);
    expect(downstream.approvals.at(-1)!.decided.id).toBe(reply.decided.id);
  });

  it('deny with no rule: default deny, no credential, nothing released', async () => {
    const before = downstream.releases.length;
    const reply = await decide(requested({ type: 'github.repo.delete', risk: 'destructive' }, { gatewayId: 'edge' }));
    expect(reply.decided.data).toMatchObject({ decision: 'deny', decidingRule: null, matchedRules: [], enforced: true });
    expect(reply.credential).toBeNull();
    expect(downstream.releases.length).toBe(before);
  });

  it('a CEL error at run time denies that request and records why', async () => {
    const reply = await decide(requested({ type: 'stripe.refund.create', params: { charge: 'ch_1' } }, { gatewayId: 'edge' }));
    expect(reply.decided.data).toMatchObject({ decision: 'deny', decidingRule: 'needs-amount', error: { code: 'TF_ERR_POLICY_EVALUATION' } });
    expect(reply.decided.data.error!.message).toContain('amount');
  });

  it('monitor mode: decides and records but never blocks, so a denied action still gets its credential', async () => {
    const reply = await decide(requested({ type: 'github.repo.delete', risk: 'destructive' }, { gatewayId: 'watch' }));
    expect(reply.decided.data).toMatchObject({ decision: 'deny', enforced: false, mode: 'monitor' });
    expect(reply.credential).not.toBeNull();
    const approval = await decide(requested({ type: 'github.pr.merge' }, { gatewayId: 'watch' }));
    expect(approval.decided.data).toMatchObject({ decision: 'require_approval', enforced: false });
    expect(approval.approval).toBeNull();
  });

  it('a missing secret is an error naming it (TF_ERR_VAULT_SECRET_MISSING)', async () => {
    const err = await failure(decide(requested({ type: 'stripe.refund.create', params: { amount: 5 } }, { gatewayId: 'edge' })));
    expect(err).toMatchObject({ code: 'TF_ERR_VAULT_SECRET_MISSING', details: { secretName: 'stripe-key' } });
    expect(err.message).toContain('stripe-key');
  });

  it('no bundle for the gateway: denied, with the reason recorded', async () => {
    const reply = await decide(requested({ type: 'github.repo.get', risk: 'read' }, { gatewayId: 'nobundle' }));
    expect(reply.decided.data).toMatchObject({ decision: 'deny', policy: null, error: { code: 'TF_ERR_POLICY_NO_BUNDLE' } });
    expect(reply.decided.data.reason).toContain('tf policy apply');
  });

  it('refuses a decide request that is not a valid ActionRequested', async () => {
    const req = requested({ type: 'github.repo.get' }, { gatewayId: 'edge' });
    const bad = { ...req, data: { ...req.data, action: { ...req.data.action, type: 'Not A Type' } } };
    const err = await failure(client.request(Commands.policyDecide, { requested: bad, ingress: { id: ingress.id, publicKey: ingress.publicKey } }));
    expect(err.code).toBe('TF_ERR_CONTRACT_SCHEMA');
  });
});

describe('recomputing recorded decisions', () => {
  it('every recorded policy decision recomputes to the same result and input digest', async () => {
    const [reqs, decs] = await Promise.all([streamEvents(client, 'tf.evt.action.requested.>'), streamEvents(client, 'tf.evt.action.decided.>')]);
    const byId = new Map(reqs.map((e) => [(e.data as { actionId: string }).actionId, e]));
    const pairs: RecordedDecision[] = decs.map((d) => ({ requested: byId.get((d.data as { actionId: string }).actionId), decided: d }));
    const bundles = new Map<string, CompiledBundle>();
    for (const gw of ['rollout', 'mix', 'sess', 'edge', 'watch']) {
      for (const e of (await store.readStream(`policy-${gw}`)).events) {
        if (e.event.type === 'PolicyBundlePublished') bundles.set(`${gw}@${e.event.data.version}`, compileBundle(e.event.data.source, { version: e.event.data.version }));
      }
    }
    const report = await verifyDecisions(pairs, (gw, p) => bundles.get(`${gw}@${p.version}`) ?? null);
    expect(report.mismatches).toEqual([]);
    expect(report.skipped).toEqual({ notPolicy: 0, invalid: 0, noBundle: 1, unknownBundle: 0 });
    expect(report.verified).toBe(pairs.length - 1);
    expect(report.verified).toBeGreaterThan(500);

    // The session state in KV is exactly what the recorded decisions rebuild.
    const sessPairs = pairs.filter((p) => (p.decided as EventEnvelope<'ActionDecided'>).data.gatewayId === 'sess');
    const rebuilt = await rebuildSessions(bundles.get('sess@1')!, sessPairs, new Date());
    const kv = await client.kv(Buckets.sessions);
    expect([...rebuilt.keys()].sort()).toEqual(['sess.agent.refund-bot-1', 'sess.agent.refund-bot-2', 'sess.agent.refund-bot-3', 'sess.agent.refund-bot-9']);
    for (const [key, entries] of rebuilt) expect((await kv.get<{ entries: unknown[] }>(key))!.value.entries).toEqual(entries);
  });
});

describe('failing closed', () => {
  it('answers an error (the ingress answers 503) when the decision cannot be recorded', async () => {
    const jsm = await jetstreamManager(client.nc);
    await jsm.streams.delete('TF_EVENTS');
    const err = await failure(client.request(Commands.policyDecide, { requested: requested({ type: 'github.repo.get', risk: 'read' }, { gatewayId: 'edge' }), ingress: { id: ingress.id, publicKey: ingress.publicKey } }));
    expect(err.code).toBe('TF_ERR_POLICY_NOT_RECORDED');
  });
});

describe('the default bundle', () => {
  it('applies as shipped', async () => {
    const source = readFileSync(new URL('../../../infra/policies/default.yaml', import.meta.url), 'utf8');
    expect(await publish('shipped', source, { fileName: 'default.yaml' })).toMatchObject({ version: 1, ruleCount: 7 });
  });
});
