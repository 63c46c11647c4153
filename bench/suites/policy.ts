/**
 * Policy decisions: evaluation cost per decision with 10, 100 and 1,000 rules (one warmed-up
 * process, timed per call), and the decision round trip over NATS to a policy process (a child
 * process running services/policy/src/main.ts against a private nats-server and a fresh
 * database), which includes recording ActionDecided with a JetStream ack on file storage.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { Buckets, Commands, createEvent, uuidv7, type Action, type DecideReply, type EventEnvelope } from '../../libs/contracts/src/index.ts';
import { connectBus } from '../../libs/messaging/src/index.ts';
import { compileBundle, evaluate, inputDigest, type CompiledBundle, type EvaluationInput } from '../../libs/policy-engine/src/index.ts';
import { createTestDatabase, freePort, startNatsServer, waitFor } from '../../libs/testing/src/index.ts';
import { createIngressKeyPair } from '../../libs/vault-crypto/src/index.ts';
import { emit, fmt, percentiles, quick } from '../stats.ts';

const rows: (string | number)[][] = [];
const data: Record<string, unknown> = {};
const notes: string[] = [];
function row(name: string, samplesUs: number[], extra = '') {
  const p = percentiles(samplesUs, [50, 90, 99, 99.9]);
  rows.push([name, `${fmt(p.p50!)} µs`, `${fmt(p.p90!)} µs`, `${fmt(p.p99!)} µs`, `${fmt(p['p99.9']!)} µs`, samplesUs.length, extra]);
  data[name] = { p50us: p.p50, p90us: p.p90, p99us: p.p99, p999us: p['p99.9'], n: samplesUs.length };
  console.error(`${name}: p50 ${fmt(p.p50!)} µs, p99 ${fmt(p.p99!)} µs`);
}

/** A deterministic pseudo-random generator, so every run measures the same bundles. */
function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const RESOURCES = ['repo', 'pr', 'issue', 'branch', 'refund', 'charge', 'message', 'file', 'release', 'team'];
const VERBS = ['get', 'list', 'create', 'update', 'delete', 'merge', 'close', 'send'];
const CONDITIONS = [
  'action.params.amount > 5000',
  'has(action.params.branch) && action.params.branch in ["main", "master"]',
  'action.risk == "read"',
  'agent.id.startsWith("ci-")',
  'now.getHours("UTC") >= 8 && now.getHours("UTC") < 20',
  'action.resource != null && action.resource.startsWith("acme/")',
];

/**
 * A bundle of `n` rules shaped like real ones: mostly exact action types, some `provider.res.*`
 * and `provider.**`, a few catch-alls (5 in 1,000), half with a CEL condition, some scoped to agents or
 * resources. Providers grow with the bundle (one per 20 rules), as they do when teams add APIs.
 */
function makeBundle(n: number): { bundle: CompiledBundle; linear: CompiledBundle; types: string[]; source: string } {
  const rand = prng(n);
  const providers = Array.from({ length: Math.max(3, Math.ceil(n / 20)) }, (_, i) => `p${i}`);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const rules = Array.from({ length: n }, (_, i) => {
    const r = rand();
    const provider = pick(providers);
    const actions =
      r < 0.7 ? [`${provider}.${pick(RESOURCES)}.${pick(VERBS)}`] : r < 0.88 ? [`${provider}.${pick(RESOURCES)}.*`] : r < 0.995 ? [`${provider}.**`] : ['**'];
    const rule: Record<string, unknown> = { id: `rule-${i}`, effect: pick(['allow', 'allow', 'deny', 'require_approval']), match: { actions } };
    if (rand() < 0.2) (rule.match as Record<string, unknown>).agents = [pick(['ci-*', 'support-bot', 'agent-*'])];
    if (rand() < 0.1) (rule.match as Record<string, unknown>).resources = ['acme/*'];
    if (rand() < 0.5 || actions[0] === '**') rule.when = pick(CONDITIONS);
    return rule;
  });
  const source = stringify({ version: 1, name: `bench-${n}`, rules });
  const types = providers.flatMap((p) => RESOURCES.flatMap((res) => VERBS.map((v) => `${p}.${res}.${v}`)));
  return { bundle: compileBundle(source, { version: 1 }), linear: compileBundle(source, { version: 1, index: false }), types, source };
}

function inputsFor(types: string[], count: number, seed: number): EvaluationInput[] {
  const rand = prng(seed);
  return Array.from({ length: count }, () => {
    const type = types[Math.floor(rand() * types.length)]!;
    const action: Action = {
      type,
      connector: type.split('.')[0]!,
      resource: rand() < 0.5 ? 'acme/app' : 'other/app',
      params: { amount: Math.floor(rand() * 10_000), branch: rand() < 0.3 ? 'main' : 'feature' },
      risk: rand() < 0.5 ? 'read' : 'write',
      notes: [],
    };
    return {
      action,
      agent: { id: rand() < 0.5 ? 'ci-build' : 'support-bot', name: 'x' },
      runId: '01900000-0000-7000-8000-000000000001',
      gatewayId: 'default',
      request: { method: 'POST', scheme: 'https', host: 'api.example.com', port: 443, path: '/x', query: '' },
      time: new Date(Date.UTC(2025, 5, 2, Math.floor(rand() * 24))).toISOString(),
      session: {},
    };
  });
}

function timeEach(inputs: EvaluationInput[], n: number, fn: (i: EvaluationInput) => unknown): number[] {
  const out = new Array<number>(n);
  for (let k = 0; k < n; k++) {
    const input = inputs[k % inputs.length]!;
    const t = process.hrtime.bigint();
    fn(input);
    out[k] = Number(process.hrtime.bigint() - t) / 1000;
  }
  return out;
}

function intrinsic(bundle: CompiledBundle, inputs: EvaluationInput[]): number[] {
  return inputs.map((i) => {
    let best = Infinity;
    for (let r = 0; r < 10; r++) {
      const t = process.hrtime.bigint();
      evaluate(bundle, i);
      best = Math.min(best, Number(process.hrtime.bigint() - t) / 1000);
    }
    return best;
  });
}

// 1. Evaluation.
notes.push(`Load average when the suite started: ${loadavg().map((l) => l.toFixed(1)).join(', ')} on ${cpus().length} cores.`);
const EVALS = quick ? 20_000 : 300_000;
for (const n of [10, 100, 1000]) {
  const t0 = performance.now();
  const { bundle, linear, types } = makeBundle(n);
  const compileMs = performance.now() - t0;
  const inputs = inputsFor(types, 5000, n + 1);
  timeEach(inputs, Math.floor(EVALS / 3), (i) => evaluate(bundle, i));
  const candidates = inputs.reduce((s, i) => s + bundle.candidates(i).length, 0) / inputs.length;
  row(`evaluate, ${n} rules`, timeEach(inputs, EVALS, (i) => evaluate(bundle, i)), `${fmt(candidates)} candidate rules on average; compile ${fmt(compileMs)} ms`);
  data[`candidates ${n}`] = candidates;
  // The same inputs, each timed as the best of 10 runs: the cost of the evaluation itself, without
  // the preemptions and GC pauses a shared machine adds to single samples.
  row(`evaluate, ${n} rules, per input (best of 10)`, intrinsic(bundle, inputs), 'load-independent: one sample per input');
  if (n === 1000) {
    row(`evaluate + input digest, ${n} rules`, timeEach(inputs, EVALS, (i) => (evaluate(bundle, i), inputDigest(i))), 'what the service does per decision');
    timeEach(inputs, 2000, (i) => evaluate(linear, i));
    row(`evaluate, ${n} rules, index off (every rule scanned)`, timeEach(inputs, quick ? 2000 : 20_000, (i) => evaluate(linear, i)), 'for comparison only');
  }
}
const shipped = compileBundle(readFileSync(new URL('../../infra/policies/default.yaml', import.meta.url), 'utf8'), { version: 1 });
const shippedInputs = inputsFor(['github.repo.get', 'github.pr.merge', 'github.repo.delete', 'slack.message.send'], 1000, 7);
timeEach(shippedInputs, Math.floor(EVALS / 3), (i) => evaluate(shipped, i));
row('evaluate, default bundle (7 rules)', timeEach(shippedInputs, EVALS, (i) => evaluate(shipped, i)));

// 2. Round trip over NATS to a policy process.
const nats = await startNatsServer();
const db = await createTestDatabase('bench_policy');
const healthPort = await freePort();
const child = spawn(process.execPath, [fileURLToPath(new URL('../../services/policy/src/main.ts', import.meta.url))], {
  env: { ...process.env, TF_NATS_URL: nats.url, TF_DATABASE_URL: db.url, TF_HEALTH_PORT: String(healthPort), TF_INSTANCE_ID: 'bench', TF_LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'ignore', 'inherit'],
});
try {
  await waitFor(async () => (await fetch(`http://127.0.0.1:${healthPort}/readyz`).catch(() => null))?.ok, { timeoutMs: 30_000, what: 'policy /readyz' });
  const bus = await connectBus({ servers: nats.url, name: 'ingress@bench', requestTimeoutMs: 10_000 });
  await bus.request(Commands.policyPublish, { gatewayId: 'default', source: shipped.source, fileName: 'default.yaml', publishedBy: 'bench' });
  await (await bus.kv(Buckets.gateways)).put('default', { gatewayId: 'default', name: 'default', mode: 'enforce' });
  await new Promise((r) => setTimeout(r, 200));
  const key = createIngressKeyPair();
  const ingress = { id: 'ingress-bench', publicKey: key.publicKey };
  const requested = (type: string, params: Action['params'], agentId = 'agent-1'): EventEnvelope<'ActionRequested'> => {
    const actionId = uuidv7();
    return createEvent(
      'ActionRequested',
      {
        actionId,
        gatewayId: 'default',
        agentId,
        runId: '01900000-0000-7000-8000-000000000001',
        agentName: agentId,
        ingressId: ingress.id,
        connectionId: 'c',
        request: { method: 'GET', scheme: 'https', host: 'api.github.com', port: 443, path: '/repos/a/b', query: '', contentType: null, contentLength: null, bodyDigest: null, bodyTruncated: false, userAgent: null },
        action: { type, connector: type.split('.')[0]!, resource: 'acme/app', params, risk: type.endsWith('.get') ? 'read' : 'write', notes: [] },
        classifierVersion: 'bench',
        requestDigest: '0'.repeat(64),
      },
      { correlationId: actionId, source: 'ingress@bench' },
    );
  };
  const RT = quick ? 500 : 5000;
  const roundTrips = async (n: number, make: (i: number) => EventEnvelope<'ActionRequested'>) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const req = make(i);
      const t = process.hrtime.bigint();
      const reply = await bus.request<DecideReply>(Commands.policyDecide, { requested: req, ingress });
      out.push(Number(process.hrtime.bigint() - t) / 1000);
      if (!reply.decided) throw new Error('no decision');
    }
    return out;
  };
  await roundTrips(RT / 5, () => requested('github.repo.get', {}));
  row('decide over NATS: allow (read), one at a time', await roundTrips(RT, () => requested('github.repo.get', {})), 'request → evaluate → ActionDecided acked by JetStream → reply');
  row('decide over NATS: deny (repo delete), one at a time', await roundTrips(RT, () => requested('github.repo.delete', {})));
  // A fresh agent for every 4 refunds keeps them allowed, so each one reads and compare-and-sets KV tf_sessions.
  row(
    'decide over NATS: session-aware refund (KV read + CAS write), one at a time',
    await roundTrips(RT, (i) => requested('stripe.refund.create', { amount: 100 }, `refunder-${Math.floor(i / 4)}`)),
    'reads the agent session, updates it with compare-and-set',
  );
  const CONC = 32;
  const total = quick ? 2000 : 20_000;
  const lat: number[] = [];
  let sent = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONC }, async () => {
      while (sent < total) {
        sent++;
        const t = process.hrtime.bigint();
        await bus.request<DecideReply>(Commands.policyDecide, { requested: requested('github.repo.get', {}), ingress });
        lat.push(Number(process.hrtime.bigint() - t) / 1000);
      }
    }),
  );
  const rate = total / ((performance.now() - t0) / 1000);
  row(`decide over NATS: allow, ${CONC} in flight`, lat, `${fmt(rate)} decisions/s from one policy process`);
  data.throughputPerSecond = rate;
  await bus.close();
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await db.drop();
  await nats.dispose();
}

notes.push(
  'Bundles are generated: one provider per 20 rules, 70% exact action types, 18% `provider.resource.*`, 11.5% `provider.**`, 0.5% `**` (always with a condition), half of the others with a CEL condition. Inputs are drawn from every action type of those providers, so some match nothing.',
  'The action-type index (exact type, then provider, then catch-alls, cached per type) keeps the rules evaluated per decision to the few that can match; the "index off" row shows the cost of scanning all 1,000.',
  'Round trips include the JetStream publish of ActionDecided (file storage) before the reply; client, NATS and the policy process share the machine.',
);
emit({
  suite: 'policy',
  title: 'Policy evaluation and decisions',
  description:
    'Per-decision evaluation cost of libs/policy-engine with 10, 100 and 1,000 rules (PRODUCT.md §5: ≤ 20 µs p99 with 1,000 rules), and the decision round trip over NATS to a policy process that records each decision in JetStream before replying.',
  columns: ['measurement', 'p50', 'p90', 'p99', 'p99.9', 'n', 'notes'],
  rows,
  notes,
  data,
});
