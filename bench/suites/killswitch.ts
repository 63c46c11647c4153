/**
 * The kill switch on a whole local stack as `tf up` runs it (libs/stack: every service as its
 * own process, two ingress replicas, a fake OpenAI upstream over HTTPS). Each round engages the
 * kill switch on everything through the control service, as `tf kill --all` does, while a client
 * polls each replica with an allowed request; then releases it.
 *
 * Measured per round: the latency the command reports (the slowest replica's acknowledgement,
 * timed by the control service from the command's arrival), each replica's acknowledgement, the
 * command's round trip seen by the CLI, and, independently of the acknowledgements, how long after
 * the command was sent each polling client received its first 403 from its replica.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProxyAgent, request } from 'undici';
import { Commands, type KillSwitchReply, type RunStartReply } from '../../libs/contracts/src/index.ts';
import { configureConnector, connectAdmin, setSecret, startStack, stopStack } from '../../libs/stack/src/index.ts';
import { startFakeUpstreams } from '../../libs/stack/src/fake-upstreams/index.ts';
import { createTestDatabase } from '../../libs/testing/src/index.ts';
import { emit, fmt, percentiles, quick } from '../stats.ts';

const ROUNDS = quick ? 8 : 30;
const POLICY = 'version: 1\nname: bench\nrules:\n  - id: allow-openai\n    effect: allow\n    match: { actions: ["openai.**"] }\n    reason: bench\n';

const dir = mkdtempSync(join(tmpdir(), 'tf-bench-killswitch-'));
const stateDir = join(dir, 'state');
const db = await createTestDatabase('bench_killswitch');
const fakes = await startFakeUpstreams({ dir: join(dir, 'fakes'), secrets: { openai: 'sk-bench-0123456789abcdef' } });
const samples = { reported: [] as number[], ack1: [] as number[], ack2: [] as number[], roundTrip: [] as number[], refused1: [] as number[], refused2: [] as number[], released: [] as number[] };
let refusedProbes = 0;
try {
  const up = await startStack({
    stateDir,
    databaseUrl: db.url,
    replicas: { ingress: 2 },
    env: { ingress: { TF_INGRESS_UPSTREAM_OVERRIDES: fakes.overrides, TF_INGRESS_UPSTREAM_CA_FILES: fakes.caFile } },
    logLevel: 'warn',
    actor: 'bench',
  });
  const { bus } = await connectAdmin(stateDir);
  await setSecret(bus, { gatewayId: 'default', name: 'openai-key', value: 'sk-bench-0123456789abcdef', actor: 'bench' });
  await configureConnector(bus, { gatewayId: 'default', connectorId: 'openai', kind: 'openai', secretName: 'openai-key', actor: 'bench' });
  await bus.request(Commands.policyPublish, { gatewayId: 'default', source: POLICY, fileName: 'bench.yaml', publishedBy: 'bench' }, { timeoutMs: 30_000 });
  const run = await bus.request<RunStartReply>(Commands.runStart, { agentName: 'bench-agent', gatewayId: 'default', command: 'bench', hostname: 'bench', pid: process.pid, startedBy: 'bench' });
  const ca = readFileSync(up.info.caCertFile, 'utf8');
  const agents = up.info.proxies.map((p) => new ProxyAgent({ uri: p.url.replace('http://', `http://tf:${run.token}@`), requestTls: { ca } }));
  /** The status of one allowed request through replica `i`, or 0 when the replica cut the connection. */
  const probe = async (i: number) => {
    try {
      const r = await request('https://api.openai.com/v1/models', { dispatcher: agents[i]! });
      await r.body.text();
      return r.statusCode;
    } catch {
      return 0;
    }
  };
  // Warm both replicas' connections and caches.
  for (let k = 0; k < 20; k++) await Promise.all([probe(0), probe(1)]);

  for (let round = 0; round < ROUNDS; round++) {
    let sentAt = 0;
    let stop = false;
    const poll = async (i: number, out: number[]) => {
      while (!stop) {
        const status = await probe(i);
        // A 403, or the connection cut by the switch (a kept-alive tunnel is in scope too).
        if ((status === 403 || status === 0) && sentAt) {
          out.push(performance.now() - sentAt);
          refusedProbes++;
          return;
        }
        await new Promise((r) => setTimeout(r, 1));
      }
    };
    const polls = [poll(0, samples.refused1), poll(1, samples.refused2)];
    await new Promise((r) => setTimeout(r, 20));
    sentAt = performance.now();
    const reply = await bus.request<KillSwitchReply>(Commands.killSwitchEngage, { scope: { kind: 'all' }, reason: `bench round ${round}`, actor: 'bench' }, { timeoutMs: 10_000 });
    samples.roundTrip.push(performance.now() - sentAt);
    if (reply.acknowledgements.length !== 2 || reply.tookEffectMs === null) throw new Error(`round ${round}: ${reply.acknowledgements.length}/${reply.expected} acknowledged`);
    samples.reported.push(reply.tookEffectMs);
    for (const a of reply.acknowledgements) (a.ingressId === 'ingress-1' ? samples.ack1 : samples.ack2).push(a.latencyMs);
    await Promise.race([Promise.all(polls), new Promise((r) => setTimeout(r, 3000))]);
    stop = true;
    await Promise.all(polls);
    const released = await bus.request<KillSwitchReply>(Commands.killSwitchRelease, { scope: { kind: 'all' }, actor: 'bench' }, { timeoutMs: 10_000 });
    samples.released.push(released.tookEffectMs ?? Number.NaN);
    if ((await probe(0)) !== 200 || (await probe(1)) !== 200) throw new Error(`round ${round}: not served again after the release`);
  }
  await Promise.all(agents.map((a) => a.close()));
  await bus.close();
} finally {
  await stopStack({ stateDir, graceMs: 5000 }).catch(() => undefined);
  await fakes.close();
  await db.drop();
  rmSync(dir, { recursive: true, force: true });
}

const rows: (string | number)[][] = [];
const data: Record<string, unknown> = {};
const row = (name: string, ms: number[]) => {
  const p = percentiles(ms, [50, 90, 99, 100]);
  rows.push([name, `${fmt(p.p50!)} ms`, `${fmt(p.p90!)} ms`, `${fmt(p.p99!)} ms`, `${fmt(p.p100!)} ms`, ms.length]);
  data[name] = { p50: p.p50, p90: p.p90, p99: p.p99, max: p.p100, n: ms.length };
};
row('engage: took effect (slowest replica, as tf kill reports it)', samples.reported);
row('engage: ingress-1 acknowledgement', samples.ack1);
row('engage: ingress-2 acknowledgement', samples.ack2);
row('engage: command round trip (tf kill waits for this)', samples.roundTrip);
row('refused (403 or cut) as seen by a client polling ingress-1', samples.refused1);
row('refused (403 or cut) as seen by a client polling ingress-2', samples.refused2);
row('release: took effect (slowest replica)', samples.released);
emit({
  suite: 'killswitch',
  title: 'Kill switch: engage to every replica refusing, acknowledged',
  description: `A local stack as tf up runs it (every service a process, a private nats-server, PostgreSQL), with two ingress replicas. ${ROUNDS} rounds: engage on everything through the control service (as tf kill --all), measure what the command reports and each replica's acknowledgement (timed by the control service from the command's arrival to the ack's), and, independently, the time from sending the command until a client polling each replica (1 ms between allowed requests) is refused: a 403, or its kept-alive tunnel cut by the switch; then release.`,
  columns: ['measure', 'p50', 'p90', 'p99', 'max', 'rounds'],
  rows,
  notes: [
    'PRODUCT bar: every gateway replica refuses within 100 ms of the command, acknowledged.',
    `${refusedProbes} of ${ROUNDS * 2} polling clients saw their replica refuse (the rest of each round's wait is bounded at 3 s).`,
    'The acknowledgement time includes KV propagation through JetStream, the replica applying the switch (and cutting what is in flight), and the ack message back; the control service also appends the KillSwitchEngaged event before the KV write, which the round trip includes.',
    'Machine shared with other engineers’ workloads (2 cores); treat p99 and max as upper bounds.',
  ],
  data,
});
process.exit(0);
